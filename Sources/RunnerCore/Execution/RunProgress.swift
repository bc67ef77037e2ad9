/// A run's overall progress, derived from its steps' records: what a job API shows as one
/// `progress` (0..100) and its last progress message. Pure.
public enum RunProgress {
    /// Each counted step (a key of `weights`) adds its weight times its own percentage: 100
    /// when it succeeded or was skipped, the progress it reported while running or when it
    /// failed, 0 otherwise. The instances of a for_each step share its weight equally; a step
    /// without records (a for_each over no items) does not count. `percent`: the sum over
    /// the total weight, rounded down. `message`: the `progressMessage` of the counted record
    /// that reported last — records do not say when, so the last running one that has a
    /// message, else the last one that has one, by position.
    public static func compute(steps: [StepRecord], weights: [String: Int]) -> (percent: Int, message: String?) {
        var shares: [String: (sum: Int, count: Int)] = [:]
        var running: StepRecord?, latest: StepRecord?
        for record in steps.sorted(by: { $0.position < $1.position }) {
            guard let weight = weights[record.step], weight > 0 else { continue }
            shares[record.step, default: (0, 0)].sum += percent(of: record)
            shares[record.step, default: (0, 0)].count += 1
            guard record.progressMessage != nil else { continue }
            latest = record
            if record.status == .running { running = record }
        }
        let parts = shares.map { (weight: weights[$0.key] ?? 0, sum: $0.value.sum, count: $0.value.count) }
        return (ratio(parts), (running ?? latest)?.progressMessage)
    }

    /// What one record contributes, in percent.
    static func percent(of record: StepRecord) -> Int {
        switch record.status {
        case .succeeded, .skipped: 100
        case .running, .failed: min(100, max(0, record.progress ?? 0))
        case .queued, .cancelled: 0
        }
    }

    /// ⌊Σ weight·sum/count / Σ weight⌋, exactly: over the least common multiple of the counts
    /// (instance counts are small); in floating point should that overflow.
    static func ratio(_ parts: [(weight: Int, sum: Int, count: Int)]) -> Int {
        var total = 0, lcm = 1, numerator = 0
        for part in parts {
            let (sum, overflow) = total.addingReportingOverflow(part.weight)
            if overflow { return approximateRatio(parts) }
            total = sum
        }
        guard total > 0 else { return 0 }
        for part in parts {
            let (product, overflow) = lcm.multipliedReportingOverflow(by: part.count / gcd(lcm, part.count))
            if overflow { return approximateRatio(parts) }
            lcm = product
        }
        for part in parts {
            let (weighted, o1) = part.weight.multipliedReportingOverflow(by: part.sum)
            let (scaled, o2) = weighted.multipliedReportingOverflow(by: lcm / part.count)
            let (sum, o3) = numerator.addingReportingOverflow(scaled)
            if o1 || o2 || o3 { return approximateRatio(parts) }
            numerator = sum
        }
        let (denominator, overflow) = total.multipliedReportingOverflow(by: lcm)
        if overflow { return approximateRatio(parts) }
        return min(100, max(0, numerator / denominator))
    }

    private static func approximateRatio(_ parts: [(weight: Int, sum: Int, count: Int)]) -> Int {
        let total = parts.reduce(0.0) { $0 + Double($1.weight) }
        let sum = parts.reduce(0.0) { $0 + Double($1.weight) * Double($1.sum) / Double($1.count) }
        return min(100, max(0, Int((sum / total + 1e-9).rounded(.down))))
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    /// The weights `pipeline` declares (`progress.weights`), else every main step once.
    public static func weights(of pipeline: Pipeline) -> [String: Int] {
        guard let spec = pipeline.progress else {
            return Dictionary(pipeline.stages.flatMap(\.steps).map { ($0.name.value, 1) },
                              uniquingKeysWith: { a, _ in a })
        }
        return Dictionary(spec.weights.map { ($0.step.value, $0.weight.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// Every main step once: the weights of a run whose definition is not at hand.
    public static func defaultWeights(of steps: [StepRecord]) -> [String: Int] {
        Dictionary(steps.filter { $0.section == StepSection.main(stage: 0).description }.map { ($0.step, 1) },
                   uniquingKeysWith: { a, _ in a })
    }
}
