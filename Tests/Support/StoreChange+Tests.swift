import Foundation
import RunnerCore

/// Store changes as an executor records them, for tests that set a run up by hand.
extension StoreChange {
    /// A run status change with nothing else to say.
    public static func run(_ status: RunStatus, at: Date = Date(timeIntervalSince1970: 2_000)) -> StoreChange {
        .runStatus(status, errorCode: nil, message: nil, wakeAt: nil, at: at)
    }

    /// A step status change at attempt and serial `serial`.
    public static func step(_ name: StepName, _ status: StepStatus, serial: Int = 1,
                            at: Date = Date(timeIntervalSince1970: 2_000)) -> StoreChange {
        .stepStatus(name, status, attempts: serial, serial: serial, retryAt: nil, errorCode: nil, message: nil, at: at)
    }

    /// What a runner records of `step`'s first attempt as it starts it (its process `pid`,
    /// when given) and, when it `succeeded`, as it ends with exit 0.
    public static func firstAttempt(_ step: StepName, at: Date, pid: Int32? = nil,
                                    succeeded: Bool = false) -> [StoreChange] {
        var attempt = AttemptRecord(step: step, serial: 1, attempt: 1, startedAt: at)
        attempt.pid = pid
        let started: [StoreChange] = [.step(step, .running, at: at), .attemptStarted(attempt)]
        guard succeeded else { return started }
        return started + [
            .attemptFinished(step, serial: 1, end: AttemptEnd(.exited(code: 0)), errorCode: nil, message: nil,
                             counted: true, at: at),
            .step(step, .succeeded, at: at),
        ]
    }
}
