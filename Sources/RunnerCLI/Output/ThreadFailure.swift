#if canImport(Glibc)
import Glibc
#endif
import RunnerCore

extension RunnerCLI {
    /// The system could not make a thread the runner cannot go on without (an event loop, the
    /// store's writer, the schedules'): said as the runner has always said it, and the process
    /// exits at once with 70, the internal-error status. A run left unfinished is resumed later
    /// like any other.
    static func exitIfOutOfThreads(_ error: any Error) {
        guard let error = error as? ThreadStartError else { return }
        let message = "runner: \(error)\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        exit(ExitCode.internalError.rawValue)
    }
}
