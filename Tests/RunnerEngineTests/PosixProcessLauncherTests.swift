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

    /// Runs a script and waits (at most `timeout`) for its exit.
    func run(_ script: String, env: [String: String] = [:], in dir: URL, masks: [String] = [], timeout: TimeInterval = 20,
             whileRunning: @escaping @Sendable (Int32) -> Void = { _ in }) async throws -> (ProcessExit, String) {
        let launcher = self.launcher
        return try await offPool {
            try Self.blockingRun(launcher, script, env: env, in: dir, masks: masks, timeout: timeout, whileRunning: whileRunning)
        }
    }

    static func blockingRun(_ launcher: PosixProcessLauncher, _ script: String, env: [String: String], in dir: URL, masks: [String],
                            timeout: TimeInterval, whileRunning: (Int32) -> Void) throws -> (ProcessExit, String) {
        let log = dir.appendingPathComponent("attempt.log").path
        let box = ExitBox()
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        environment.merge(env) { $1 }
        let pid = try launcher.launch(ProcessSpec(argv: ["/bin/sh", "-c", script], environment: environment,
                                                  workingDirectory: dir.path, logPath: log, masks: masks)) { box.set($0) }
        whileRunning(pid)
        guard let exit = box.wait(timeout: timeout) else { throw TestFailure("no exit within \(timeout) s") }
        return (exit, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test func exitCodeOutputAndStderrTail() async throws {
        let (exit, log) = try await run("echo out; echo err >&2; exit 3", in: try scratch())
        #expect(exit.reason == .exited(code: 3))
        #expect(exit.stderrTail == "err\n")
        #expect(log.contains("out\n") && log.contains("err\n"))
    }

    @Test func environmentAndWorkingDirectory() async throws {
        let dir = try scratch()
        let (exit, log) = try await run("printf '%s|%s' \"$GREETING\" \"$(pwd)\"", env: ["GREETING": "hello; $(touch pwned)"], in: dir)
        #expect(exit.reason == .exited(code: 0))
        #expect(log == "hello; $(touch pwned)|\(dir.path)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("pwned").path), "values are never shell text")
    }

    @Test func stdinIsEmptyAndNoDescriptorLeaks() async throws {
        let (_, log) = try await run("cat; ls /proc/self/fd | wc -l", in: try scratch())
        #expect(log.trimmingCharacters(in: .whitespacesAndNewlines) == "4", "0, 1, 2 and the one ls opens")
    }

    @Test func aSignalIsReported() async throws {
        let (exit, _) = try await run("kill -9 $$", in: try scratch())
        #expect(exit.reason == .signalled(9))
    }

    @Test func terminateStopsTheWholeGroup() async throws {
        let dir = try scratch()
        let pidFile = dir.appendingPathComponent("child.pid").path
        let launcher = self.launcher
        let (exit, _) = try await run("sleep 60 & echo $! > child.tmp; mv child.tmp child.pid; wait", in: dir) { pid in
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

    @Test func whatAStepLeavesRunningIsKilledWhenItExits() async throws {
        let dir = try scratch()
        let (exit, log) = try await run("sleep 60 > /dev/null 2>&1 & echo $!", in: dir)
        #expect(exit.reason == .exited(code: 0))
        let child = try #require(Int32(log.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await eventually { kill(child, 0) != 0 })
    }

    @Test func secretsAreMaskedInTheLog() async throws {
        let (_, log) = try await run("echo token=s3cr3t-value", in: try scratch(), masks: ["s3cr3t-value"])
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

