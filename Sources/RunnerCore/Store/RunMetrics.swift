/// Aggregates for `/metrics`. Reads only: no atomicity beyond each answer coming from one
/// consistent state of the store.
public protocol RunMetrics: AnyObject, Sendable {
    /// How many runs are in each status (statuses no run is in are absent).
    func runCounts() throws -> [RunStatus: Int]
    /// Seconds each finished step took, for the newest 100,000 finished steps.
    func stepDurations() throws -> [Double]
}
