import Foundation
import Glibc
import Testing
import RunnerTestSupport
import RunnerCore
@testable import RunnerEngine

/// Real processes: these tests start `sh`.
@Suite struct PosixProcessLauncherTests {
    let launcher = PosixProcessLauncher()

    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("launch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs a script and waits (at most `timeout`) for its exit. `beside`: another process of
    /// the launcher runs meanwhile, so the script is started the way a step is when others run
    /// (without waiting for its exec: `runner_spawn_detached`); otherwise with vfork.
    func run(_ script: String, env: [String: String] = [:], in dir: URL, masks: [String] = [], timeout: TimeInterval = 20,
             beside: Bool = false, whileRunning: @escaping @Sendable (Int32) -> Void = { _ in }) async throws -> (ProcessExit, String) {
        let launcher = self.launcher
        return try await offPool {
            let companion = beside ? try Self.startCompanion(launcher, in: dir) : nil
            defer { if let companion { launcher.terminate(companion, grace: .seconds(1)) } }
            return try Self.blockingRun(launcher, script, env: env, in: dir, masks: masks, timeout: timeout, whileRunning: whileRunning)
        }
    }

    /// `body`, given the launcher, run off the pool while another process of the launcher runs:
    /// each launch in it is started as a step's is when others run.
    func besideACompanion<T: Sendable>(
        in dir: URL, _ body: @escaping @Sendable (PosixProcessLauncher) throws -> T
    ) async throws -> T {
        let launcher = self.launcher
        return try await offPool {
            let companion = try Self.startCompanion(launcher, in: dir)
            defer { launcher.terminate(companion, grace: .seconds(1)) }
            return try body(launcher)
        }
    }

    /// A process that runs until it is terminated.
    static func startCompanion(_ launcher: PosixProcessLauncher, in dir: URL) throws -> Int32 {
        let pid = try launcher.launch(ProcessSpec(argv: ["/bin/sh", "-c", "exec sleep 60"], environment: [:], workingDirectory: dir.path,
                                                  logPath: dir.appendingPathComponent("companion.log").path)) { _ in }
        #expect(launcher.loop.hasChildren)
        return pid
    }

    static func blockingRun(_ launcher: PosixProcessLauncher, _ script: String, env: [String: String], in dir: URL, masks: [String],
                            timeout: TimeInterval, whileRunning: (Int32) -> Void) throws -> (ProcessExit, String) {
        let log = dir.appendingPathComponent("attempt.log").path
        let box = ExitBox()
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        environment.merge(env) { $1 }
        let pid = try launcher.launch(ProcessSpec(argv: ["/bin/sh", "-c", script], environment: environment,
                                                  workingDirectory: dir.path, logPath: log, masker: SecretMasker(masks))) { box.set($0) }
        whileRunning(pid)
        guard let exit = box.wait(timeout: timeout) else { throw TestFailure("no exit within \(timeout) s") }
        return (exit, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test(arguments: [false, true]) func exitCodeOutputAndStderrTail(beside: Bool) async throws {
        let (exit, log) = try await run("echo out; echo err >&2; exit 3", in: try scratch(), beside: beside)
        #expect(exit.reason == .exited(code: 3))
        #expect(exit.stderrTail == "err\n")
        #expect(log.contains("out\n") && log.contains("err\n"))
    }

    @Test(arguments: [false, true]) func environmentAndWorkingDirectory(beside: Bool) async throws {
        let dir = try scratch()
        let (exit, log) = try await run("printf '%s|%s' \"$GREETING\" \"$(pwd)\"", env: ["GREETING": "hello; $(touch pwned)"], in: dir,
                                        beside: beside)
        #expect(exit.reason == .exited(code: 0))
        #expect(log == "hello; $(touch pwned)|\(dir.path)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("pwned").path), "values are never shell text")
    }

    @Test(arguments: [false, true]) func stdinIsEmptyAndNoDescriptorLeaks(beside: Bool) async throws {
        let (_, log) = try await run("cat; ls /proc/self/fd | wc -l", in: try scratch(), beside: beside)
        #expect(log.trimmingCharacters(in: .whitespacesAndNewlines) == "4", "0, 1, 2 and the one ls opens")
    }

    @Test(arguments: [false, true]) func aSignalIsReported(beside: Bool) async throws {
        let (exit, _) = try await run("kill -9 $$", in: try scratch(), beside: beside)
        #expect(exit.reason == .signalled(9))
    }

    @Test(arguments: [false, true]) func terminateStopsTheWholeGroup(beside: Bool) async throws {
        let dir = try scratch()
        let pidFile = dir.appendingPathComponent("child.pid").path
        let launcher = self.launcher
        let (exit, _) = try await run("sleep 60 & echo $! > child.tmp; mv child.tmp child.pid; wait", in: dir, beside: beside) { pid in
            waitFor { FileManager.default.fileExists(atPath: pidFile) }
            launcher.terminate(pid, grace: .seconds(5))
        }
        #expect(exit.reason == .signalled(15))
        // Written whole, then renamed: the file never exists empty.
        let child = try #require(Int32((try String(contentsOfFile: pidFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await eventually { kill(child, 0) != 0 }, "the grandchild is gone too")
    }

    @Test func aProcessIgnoringTermIsKilledAfterTheGrace() async throws {
        let dir = try scratch()
        let launcher = self.launcher
        let (exit, _) = try await run("trap '' TERM; echo ready > ready; while :; do sleep 0.05; done", in: dir) { pid in
            waitFor { FileManager.default.fileExists(atPath: dir.appendingPathComponent("ready").path) }
            launcher.terminate(pid, grace: .milliseconds(200))
        }
        #expect(exit.reason == .signalled(9))
    }

    @Test(arguments: [false, true]) func whatAStepLeavesRunningIsKilledWhenItExits(beside: Bool) async throws {
        let dir = try scratch()
        let (exit, log) = try await run("sleep 60 > /dev/null 2>&1 & echo $!", in: dir, beside: beside)
        #expect(exit.reason == .exited(code: 0))
        let child = try #require(Int32(log.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await eventually { kill(child, 0) != 0 })
    }

    @Test(arguments: [false, true]) func secretsAreMaskedInTheLog(beside: Bool) async throws {
        let (_, log) = try await run("echo token=s3cr3t-value", in: try scratch(), masks: ["s3cr3t-value"], beside: beside)
        #expect(log == "token=***\n")
    }

    @Test func manyConcurrentProcesses() async throws {
        let dir = try scratch()
        let launcher = self.launcher
        let (finished, count) = try await offPool { () -> (Bool, Int) in
        let group = DispatchGroup()
        let count = Counter()
        for n in 0..<100 {
            group.enter()
            _ = try launcher.launch(ProcessSpec(argv: ["/bin/sh", "-c", "echo \(n)"], environment: [:], workingDirectory: dir.path,
                                                logPath: dir.appendingPathComponent("\(n).log").path)) { exit in
                if exit.reason == .exited(code: 0) { count.add() }
                group.leave()
            }
        }
        return (group.wait(timeout: .now() + 30) == .success, count.value)
        }
        #expect(finished)
        #expect(count == 100)
        #expect(try String(contentsOfFile: dir.appendingPathComponent("42.log").path, encoding: .utf8) == "42\n")
    }

    /// Launches racing with exits: each exit starts the next process at once, so descriptor
    /// numbers the poll thread just closed are reused by new pipes and pidfds. Every exit must
    /// still be reported (a stream forgotten after its number was reused hung a run once).
    @Test func launchesRacingWithExitsLoseNothing() async throws {
        let dir = try scratch()
        let launcher = self.launcher
        let total = 3000, lanes = 4
        let (finished, count) = try await offPool { () -> (Bool, Int) in
            let done = DispatchSemaphore(value: 0)
            let count = Counter()
            let queue = DispatchQueue(label: "relaunch")
            let next = Counter()
            @Sendable func launchNext() {
                let n = next.add()
                guard n <= total else { return }
                do {
                    _ = try launcher.launch(ProcessSpec(argv: ["/bin/true"], environment: [:], workingDirectory: dir.path,
                                                        logPath: dir.appendingPathComponent("r.log").path)) { exit in
                        if exit.reason == .exited(code: 0), count.add() == total { done.signal() }
                        queue.async { launchNext() }
                    }
                } catch {
                    queue.async { launchNext() }
                }
            }
            for _ in 0..<lanes { queue.async { launchNext() } }
            return (done.wait(timeout: .now() + 30) == .success, count.value)
        }
        #expect(finished)
        #expect(count == total)
    }

    /// Started beside another process (without waiting for the exec), a program that cannot
    /// start is not thrown: its exit says why, in the words a thrown launch error has.
    @Test func besideAnotherProcessAMissingProgramEndsAsALaunchFailure() async throws {
        let dir = try scratch()
        let exits = try await besideACompanion(in: dir) { launcher in
            var exits: [ProcessExit?] = []
            for (argv, workdir) in [(["/nonexistent/program"], dir.path), (["/bin/sh", "-c", "echo ran > ran"], "/nonexistent/dir")] {
                let box = ExitBox()
                _ = try launcher.launch(ProcessSpec(argv: argv, environment: [:], workingDirectory: workdir,
                                                    logPath: dir.appendingPathComponent("x.log").path)) { box.set($0) }
                exits.append(box.wait(timeout: 20))
            }
            return exits
        }
        #expect(exits[0]?.reason == .launchFailed("cannot start /nonexistent/program: No such file or directory"))
        #expect(exits[1]?.reason == .launchFailed("cannot start /bin/sh: No such file or directory"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("ran").path))
    }

    /// A terminate right after a launch that did not wait for the exec still reaches the process
    /// (its group exists before the launch returns).
    @Test func besideAnotherProcessATerminateAtOnceStopsTheNewProcess() async throws {
        let dir = try scratch()
        let exits = try await besideACompanion(in: dir) { launcher in
            var exits: [ProcessExit?] = []
            for _ in 0..<20 {
                let box = ExitBox()
                let pid = try launcher.launch(ProcessSpec(argv: ["/bin/sh", "-c", "exec sleep 60"], environment: [:], workingDirectory: dir.path,
                                                          logPath: dir.appendingPathComponent("t.log").path)) { box.set($0) }
                launcher.terminate(pid, grace: .seconds(30))
                exits.append(box.wait(timeout: 20))
            }
            return exits
        }
        #expect(exits.allSatisfy { $0?.reason == .signalled(15) }, "\(exits.map { $0.map { "\($0.reason)" } ?? "no exit" })")
    }

    @Test func aMissingProgramIsALaunchError() async throws {
        let dir = try scratch()
        #expect(throws: PosixProcessLauncher.LaunchError.self) {
            _ = try launcher.launch(ProcessSpec(argv: ["/nonexistent/program"], environment: [:], workingDirectory: dir.path,
                                                logPath: dir.appendingPathComponent("x.log").path)) { _ in }
        }
        #expect(throws: PosixProcessLauncher.LaunchError.self) {
            _ = try launcher.launch(ProcessSpec(argv: ["/bin/sh", "-c", "true"], environment: [:], workingDirectory: "/nonexistent/dir",
                                                logPath: dir.appendingPathComponent("y.log").path)) { _ in }
        }
    }
}

final class ExitBox: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private var exit: ProcessExit?
    func set(_ e: ProcessExit) { exit = e; semaphore.signal() }
    func wait(timeout: TimeInterval) -> ProcessExit? {
        semaphore.wait(timeout: .now() + timeout) == .success ? exit : nil
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    @discardableResult func add() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

