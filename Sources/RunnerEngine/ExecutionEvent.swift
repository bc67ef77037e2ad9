#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore

/// What the engine tells its front door while a run executes (for live progress).
public enum ExecutionEvent: Sendable {
    case runStatus(RunID, RunStatus, errorCode: String?, message: String?, wakeAt: Date?)
    case stepStatus(StepName, StepStatus, attempt: Int, errorCode: String?, message: String?, at: Date)
    case attemptStarted(StepName, attempt: Int, serial: Int, logPath: String, at: Date)
    case attemptEnded(StepName, serial: Int, AttemptEnd, errorCode: String?, message: String?, at: Date)
    case progress(StepName, percent: Int, message: String?)
    case output(StepName, text: String, isError: Bool)
    /// `queue` / `cancel_running`: the run waits for an earlier run of its concurrency group.
    case waitingForGroup(active: RunRecord, group: String)
    /// The state store cannot record (why; for at most `patience` seconds nothing new starts);
    /// nil when it records again.
    case storeWaiting(String?, patience: Double)
}
