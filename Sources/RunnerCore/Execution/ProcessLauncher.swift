import FoundationEssentials

/// Environment entries many launches share (a run's base environment), as `NAME=value`
/// lines: a launcher may keep them in its own form (C strings) for as long as this lives,
/// instead of making them again at every launch.
public final class SharedEnvironment: @unchecked Sendable {
    public let lines: [String]
    private let lock = Lock()
    private var prepared: AnyObject?

    public init(_ environment: [String: String]) {
        lines = environment.map { "\($0.key)=\($0.value)" }
    }

    /// The launcher's form of `lines`, made by `make` the first time.
    public func prepared<T: AnyObject>(_ make: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        if let done = prepared as? T { return done }
        let made = make()
        prepared = made
        return made
    }
}

/// What to start for one attempt.
public struct ProcessSpec: Sendable {
    public var argv: [String]
    /// The process's environment; with `shared`, what it adds to that (no name in both).
    public var environment: [String: String]
    public var shared: SharedEnvironment?
    public var workingDirectory: String
    /// stdout and stderr, interleaved as they come, go to this file.
    public var logPath: String
    /// Masks the run's secrets in the log, the stderr tail and the live output.
    public var masker: SecretMasker
    /// Live output, chunk by chunk (`isError` for stderr).
    public var echo: (@Sendable (_ text: String, _ isError: Bool) -> Void)?

    public init(argv: [String], environment: [String: String], workingDirectory: String, logPath: String,
                masker: SecretMasker = SecretMasker([]), echo: (@Sendable (String, Bool) -> Void)? = nil) {
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.logPath = logPath
        self.masker = masker
        self.echo = echo
    }
}

/// How a process ended, with the end of its stderr.
public struct ProcessExit: Sendable {
    public var reason: AttemptEnd.Reason
    public var stderrTail: String

    public init(reason: AttemptEnd.Reason, stderrTail: String) {
        self.reason = reason
        self.stderrTail = stderrTail
    }
}

/// Starts and stops step processes. The engine sees processes only through this port (it
/// sends no signal itself), so tests can substitute a fake.
public protocol ProcessLauncher: Sendable {
    /// The thread the executors of this launcher's processes run on (see `ExecutionLoop`).
    var executionLoop: any ExecutionLoop { get }
    /// Starts the process in its own process group; `onExit` is called once, after the
    /// process exited and its output was fully read. A program that cannot be started is
    /// thrown, or (when the launcher did not wait for the exec) its exit has the reason
    /// `launchFailed`, with the same message.
    func launch(_ spec: ProcessSpec, onExit: @escaping @Sendable (ProcessExit) -> Void) throws -> Int32
    /// SIGTERM to the process group, SIGKILL after `grace` if it still runs.
    func terminate(_ pid: Int32, grace: Duration)
    /// SIGKILL to the process group at once (the run stops: its store or its lease is gone).
    func kill(processGroup pid: Int32)
    /// Kills every process an attempt left behind, found by the `RUNNER_ATTEMPT_ID` its
    /// environment carries (`marker`), and waits until none is left: what a runner that died
    /// had started, before the attempt runs again or is recorded as interrupted.
    func killAbandoned(marker: String)
}
