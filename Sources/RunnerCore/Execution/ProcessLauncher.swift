/// What to start for one attempt.
public struct ProcessSpec: Sendable {
    public var argv: [String]
    public var environment: [String: String]
    public var workingDirectory: String
    /// stdout and stderr, interleaved as they come, go to this file.
    public var logPath: String
    /// Values replaced by `***` in the log and the live output (secret params).
    public var masks: [String]
    /// Live output, chunk by chunk (`isError` for stderr).
    public var echo: (@Sendable (_ text: String, _ isError: Bool) -> Void)?

    public init(argv: [String], environment: [String: String], workingDirectory: String, logPath: String,
                masks: [String] = [], echo: (@Sendable (String, Bool) -> Void)? = nil) {
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.logPath = logPath
        self.masks = masks
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

/// Starts and stops step processes. The engine sees processes only through this port, so
/// tests can substitute a fake.
public protocol ProcessLauncher: Sendable {
    /// Starts the process in its own process group; `onExit` is called once, after the
    /// process exited and its output was fully read.
    func launch(_ spec: ProcessSpec, onExit: @escaping @Sendable (ProcessExit) -> Void) throws -> Int32
    /// SIGTERM to the process group, SIGKILL after `grace` if it still runs.
    func terminate(_ pid: Int32, grace: Duration)
}
