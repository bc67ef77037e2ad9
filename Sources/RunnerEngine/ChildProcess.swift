import CProcess
import FoundationEssentials
import Glibc
import RunnerCore

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

    init(pid: pid_t, spawned: OpaquePointer? = nil, program: String = "",
         onExit: @escaping @Sendable (ProcessExit) -> Void) {
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
