import FoundationEssentials

/// Asking the executor of a run, wherever it runs, to cancel it: a flag it polls.
///
/// Atomicity contract: `requestCancel` checks that the run is unfinished and sets the flag in
/// one step (a run finishing meanwhile is either asked or reported finished, never both); the
/// first request's time is kept.
public protocol CancelSignals: AnyObject, Sendable {
    /// Asks the run's owner to cancel it; false when the run is finished or missing.
    func requestCancel(_ run: RunID, at: Date) throws -> Bool
    func isCancelRequested(_ run: RunID) throws -> Bool
}
