import CProcess
import Dispatch
import FoundationEssentials
import Glibc
import RunnerCore

/// Starts steps with posix_spawn, each in a process group of its own. One thread reads every
/// step's output and watches every step's exit (poll on the pipes and on a pidfd per child; a
/// thread per child only where pidfd_open is missing). When a step's main process exits,
/// whatever it left running in its group is killed, so no step outlives itself.
public final class PosixProcessLauncher: ProcessLauncher, @unchecked Sendable {
    public struct LaunchError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads the steps' output, sees their exits, and runs the executors that use this launcher.
    let loop = EventLoop()
    public var executionLoop: any ExecutionLoop { loop }

    public init() {}

    public func launch(_ spec: ProcessSpec, onExit: @escaping @Sendable (ProcessExit) -> Void) throws -> Int32 {
        try loop.start()
        let log = LogFile(path: spec.logPath)
        let masker = spec.masker
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        guard runner_pipe(&out, 0) == 0 else { throw LaunchError(description: "pipe: \(String(cString: strerror(errno)))") }
        guard runner_pipe(&err, 0) == 0 else {
            close(out[0]); close(out[1])
            throw LaunchError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        let own = spec.environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        var pidfd: Int32 = -1
        var spawned: OpaquePointer?
        // With another step running, the loop must not wait for this one's exec (see
        // runner_spawn_detached); alone, vfork measured faster (a chain of steps: the child
        // starts on the core the loop leaves, and no other step needs the loop meanwhile).
        let detached = loop.hasChildren
        let status = withCStrings(spec.argv) { argv in
            withEnvironment(spec.shared, own) { envp in
                if detached {
                    let status = runner_spawn_detached(argv, envp, spec.workingDirectory, out[1], err[1], &pid, &pidfd, &spawned)
                    if status != ENOSYS { return status }
                }
                return runner_spawn(argv, envp, spec.workingDirectory, out[1], err[1], &pid)
            }
        }
        close(out[1])
        close(err[1])
        guard status == 0 else {
            close(out[0]); close(err[0])
            throw LaunchError(description: Self.cannotStart(spec.argv.first ?? "?", status))
        }
        let process = ChildProcess(pid: pid, spawned: spawned, program: spec.argv.first ?? "?", onExit: onExit)
        if pidfd < 0 { pidfd = runner_pidfd_open(pid) }
        loop.add([Stream(fd: out[0], isError: false, log: log, process: process, masker: masker, echo: spec.echo),
                  Stream(fd: err[0], isError: true, log: log, process: process, masker: masker, echo: spec.echo)],
                 exit: pidfd >= 0 ? (pidfd, process) : nil)
        if pidfd < 0 {
            do {
                try Threads.start(stackSize: 64 << 10) { process.waitForExit() }
            } catch {
                // Nobody would see it end: it is stopped now, and ends as a failed launch.
                Glibc.kill(-pid, SIGKILL)
                process.waitForExit(failure: "\(error)")
            }
        }
        return pid
    }

    static func cannotStart(_ program: String, _ error: Int32) -> String {
        "cannot start \(program): \(String(cString: strerror(error)))"
    }

    public func terminate(_ pid: Int32, grace: Duration) {
        Glibc.kill(-pid, SIGTERM)
        let (seconds, atto) = grace.components
        _ = loop.schedule(after: Double(seconds) + Double(atto) / 1e18) {
            // The leader is not reaped until its group has been killed, so its pid (the
            // group id) cannot have been reused yet if it still stands.
            if ChildProcess.isRunning(pid) { Glibc.kill(-pid, SIGKILL) }
        }
    }

    public func kill(processGroup pid: Int32) {
        Glibc.kill(-pid, SIGKILL)
    }

    public func killAbandoned(marker: String) {
        ProcessIdentity.killAttempt(marker: marker)
    }
}

/// One started process: done when it exited and both its streams were read to the end.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    /// A child started detached: its copy of argv and envp and its errno if it never ran the
    /// program, freed once it is reaped.
    private var spawned: OpaquePointer?
    private let program: String
    private let onExit: @Sendable (ProcessExit) -> Void
    private let lock = Lock()
    private var reason: AttemptEnd.Reason?
    private var openStreams = 2
    private var stderrTail = Data()
    static let tailLimit = 64 << 10

    private static let registryLock = Lock()
    nonisolated(unsafe) private static var running: Set<pid_t> = []

    init(pid: pid_t, spawned: OpaquePointer? = nil, program: String = "", onExit: @escaping @Sendable (ProcessExit) -> Void) {
        self.pid = pid
        self.spawned = spawned
        self.program = program
        self.onExit = onExit
        Self.registryLock.lock()
        Self.running.insert(pid)
        Self.registryLock.unlock()
    }

    static func isRunning(_ pid: pid_t) -> Bool {
        registryLock.lock()
        defer { registryLock.unlock() }
        return running.contains(pid)
    }

    /// Waits without reaping, kills what is left of the group while the leader's pid is still
    /// reserved, then reaps. Returns at once when the pidfd said the process exited. With
    /// `failure`, the process was stopped because it could not be watched: it ends as a launch
    /// that failed for that reason.
    func waitForExit(failure: String? = nil) {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        Self.registryLock.lock()
        Self.running.remove(pid)
        Self.registryLock.unlock()
        let low = status & 0x7F
        var ended: AttemptEnd.Reason = low == 0 ? .exited(code: (status >> 8) & 0xFF) : .signalled(low)
        if let spawned {
            // Reaped: the child no longer reads the block. Its errno: chdir or execve failed.
            let error = runner_spawned_error(spawned)
            runner_spawned_free(spawned)
            self.spawned = nil
            if error != 0 { ended = .launchFailed(PosixProcessLauncher.cannotStart(program, error)) }
        }
        if let failure { ended = .launchFailed(failure) }
        lock.lock()
        reason = ended
        let done = openStreams == 0
        lock.unlock()
        if done { finish() }
    }

    func appendStderr(_ data: Data) {
        lock.lock()
        stderrTail.append(data)
        if stderrTail.count > Self.tailLimit * 2 { stderrTail = stderrTail.suffix(Self.tailLimit) }
        lock.unlock()
    }

    func streamClosed() {
        lock.lock()
        openStreams -= 1
        let done = openStreams == 0 && reason != nil
        lock.unlock()
        if done { finish() }
    }

    private func finish() {
        lock.lock()
        let tail = String(decoding: stderrTail.suffix(Self.tailLimit), as: UTF8.self)
        let ended = reason ?? .exited(code: -1)
        lock.unlock()
        onExit(ProcessExit(reason: ended, stderrTail: tail))
    }
}

/// An attempt's log, created on the first byte the step writes: a step that prints nothing
/// leaves no file (creating one per step was the largest cost of a run of quiet steps).
/// Used only on the pump thread.
final class LogFile: @unchecked Sendable {
    let path: String
    private var fd: Int32 = -1
    private var failed = false
    var openStreams = 2
    /// When the file was last checked to be still in its folder.
    private var checkedAt = Monotonic.now()

    init(path: String) { self.path = path }

    func write(_ raw: UnsafeRawBufferPointer) {
        if fd < 0 && !failed {
            fd = Self.open(path, flags: O_TRUNC)
            failed = fd < 0
        } else if fd >= 0 && checkedAt.elapsed > 0.5 {
            checkedAt = Monotonic.now()
            reopenIfRemoved()
        }
        guard fd >= 0 else { return }
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n <= 0 { if errno == EINTR { continue } else { break } }
            offset += n
        }
    }

    func streamClosed() {
        openStreams -= 1
        if openStreams == 0 && fd >= 0 {
            close(fd)
            fd = -1
        }
    }

    /// The log was removed while the step wrote it (its folder deleted): what follows goes to
    /// a new file at the same path, in a folder made again, after a line that says so.
    private func reopenIfRemoved() {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_nlink == 0 else { return }
        let reopened = Self.open(path, flags: O_APPEND)
        guard reopened >= 0 else { return }
        close(fd)
        fd = reopened
        let note = "[runner: this log was removed while the step ran; what the step wrote before this line is lost]\n"
        _ = note.withCString { Glibc.write(fd, $0, strlen($0)) }
    }

    /// Opens (creating) the log, and its folder if it is missing.
    static func open(_ path: String, flags: Int32) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0o600)
        guard fd < 0, errno == ENOENT, let slash = path.lastIndex(of: "/") else { return fd }
        try? StateDirectory.makeDirectory(String(path[..<slash]))
        return Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0o600)
    }
}

/// One output stream of a process. Secrets are masked on the bytes as they come, a secret
/// cut across two reads (or two writes of the step) included (`SecretMasker.Stream`), before
/// anything reaches the log, the stderr tail or the live output.
final class Stream: @unchecked Sendable {
    let fd: Int32
    let isError: Bool
    let log: LogFile
    let process: ChildProcess
    let masking: SecretMasker.Stream?
    let echo: (@Sendable (String, Bool) -> Void)?
    /// The end of a UTF-8 character cut by a read, kept for the live output (the log gets the
    /// bytes as they are).
    private var partialCharacter: [UInt8] = []

    init(fd: Int32, isError: Bool, log: LogFile, process: ChildProcess, masker: SecretMasker, echo: (@Sendable (String, Bool) -> Void)?) {
        self.fd = fd
        self.isError = isError
        self.log = log
        self.process = process
        self.masking = masker.isEmpty ? nil : SecretMasker.Stream(masker)
        self.echo = echo
    }

    func consume(_ bytes: UnsafeRawBufferPointer) {
        guard let masking else { return pass(bytes) }
        let masked = masking.feed(bytes)
        masked.withUnsafeBytes { pass($0) }
    }

    /// The stream ended: what the masking held back goes out.
    func finish() {
        if let rest = masking?.finish(), !rest.isEmpty { rest.withUnsafeBytes { pass($0) } }
        if !partialCharacter.isEmpty, let echo {
            echo(String(decoding: partialCharacter, as: UTF8.self), isError)
            partialCharacter = []
        }
    }

    private func pass(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        log.write(bytes)
        if isError { process.appendStderr(Data(bytes)) }
        guard let echo else { return }
        var text = partialCharacter + bytes
        let cut = Self.incompleteTail(text)
        partialCharacter = Array(text[(text.count - cut)...])
        text.removeLast(cut)
        if !text.isEmpty { echo(String(decoding: text, as: UTF8.self), isError) }
    }

    /// How many bytes at the end of `bytes` begin a UTF-8 character that is not complete yet.
    static func incompleteTail(_ bytes: [UInt8]) -> Int {
        var n = 0
        for byte in bytes.reversed().prefix(3) {
            n += 1
            if byte & 0xC0 == 0x80 { continue }  // a continuation byte: look further back
            let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            return needed > n ? n : 0
        }
        return 0
    }
}

/// C strings of a shared environment, made once per run (not 40 strdup-and-free a launch).
final class CStrings: @unchecked Sendable {
    let pointers: [UnsafeMutablePointer<CChar>?]
    init(_ strings: [String]) { pointers = strings.map { strdup($0) } }
    deinit { pointers.forEach { free($0) } }
}

/// Calls `body` with a NULL-terminated environment: the shared lines (C strings kept with them)
/// and the launch's own.
func withEnvironment<R>(_ shared: SharedEnvironment?, _ own: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    guard let shared else { return withCStrings(own, body) }
    let base = shared.prepared { CStrings(shared.lines) }
    var pointers = base.pointers
    let extra = own.map { strdup($0) }
    defer { extra.forEach { free($0) } }
    pointers.append(contentsOf: extra)
    pointers.append(nil)
    return withExtendedLifetime(base) { pointers.withUnsafeBufferPointer { body($0.baseAddress!) } }
}

/// Calls `body` with a NULL-terminated C array of the strings.
public func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
