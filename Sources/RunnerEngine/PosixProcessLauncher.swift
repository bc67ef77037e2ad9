import CProcess
import Dispatch
import FoundationEssentials
import Glibc
import RunnerCore

/// Starts steps (with vfork, see `runner_spawn`), each in a process group of its own. One thread reads every
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
        let (out, err) = try Self.pipes()
        let started = spawn(spec, stdout: out[1], stderr: err[1])
        close(out[1])
        close(err[1])
        guard started.status == 0 else {
            close(out[0]); close(err[0])
            throw LaunchError(description: Self.cannotStart(spec.argv.first ?? "?", started.status))
        }
        let pid = started.pid
        let process = ChildProcess(pid: pid, spawned: started.spawned, program: spec.argv.first ?? "?", onExit: onExit)
        let pidfd = started.pidfd >= 0 ? started.pidfd : runner_pidfd_open(pid)
        let log = LogFile(path: spec.logPath)
        loop.add([Stream(fd: out[0], isError: false, log: log, process: process, masker: spec.masker, echo: spec.echo),
                  Stream(fd: err[0], isError: true, log: log, process: process, masker: spec.masker, echo: spec.echo)],
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

    /// The step's stdout and stderr pipes (read end first).
    private static func pipes() throws -> (out: [Int32], err: [Int32]) {
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        guard runner_pipe(&out, 0) == 0 else {
            throw LaunchError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        guard runner_pipe(&err, 0) == 0 else {
            close(out[0]); close(out[1])
            throw LaunchError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        return (out, err)
    }

    /// Starts the process; its status is an errno (0: started). With another step running, the
    /// loop must not wait for this one's exec (see runner_spawn_detached), which also gives
    /// the pidfd; alone, vfork measured faster (a chain of steps: the child starts on the core
    /// the loop leaves, and no other step needs the loop meanwhile).
    private func spawn(_ spec: ProcessSpec, stdout: Int32,
                       stderr: Int32) -> (status: Int32, pid: pid_t, pidfd: Int32, spawned: OpaquePointer?) {
        let own = spec.environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        var pidfd: Int32 = -1
        var spawned: OpaquePointer?
        let detached = loop.hasChildren
        let status = withCStrings(spec.argv) { argv in
            withEnvironment(spec.shared, own) { envp in
                if detached {
                    let status = runner_spawn_detached(argv, envp, spec.workingDirectory, stdout, stderr, &pid, &pidfd,
                                                       &spawned)
                    if status != ENOSYS { return status }
                }
                return runner_spawn(argv, envp, spec.workingDirectory, stdout, stderr, &pid)
            }
        }
        return (status, pid, pidfd, spawned)
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
