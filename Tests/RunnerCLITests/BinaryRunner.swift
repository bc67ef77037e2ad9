import Foundation
import RunnerTestSupport

/// Runs the built `runner` binary, as a user would, with a time limit.
enum BinaryRunner {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var timedOut: Bool
        /// Killed by a signal (a crash): never acceptable on any input.
        var crashed: Bool
    }

    static let path: String = {
        // The test bundle lives next to the products of the same build.
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [bundle.appendingPathComponent("runner").path,
                          Paths.packageRoot.appendingPathComponent(".build/debug/runner").path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[1]
    }()

    /// `executable`: another program to run the same way (e.g. git, to make fixtures).
    static func run(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil,
                    timeout: TimeInterval = 30, executable: String? = nil) -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        // Output goes to files: no pipe can fill up and block the child.
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("runner-out-\(UUID().uuidString)")
        let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        guard let outHandle = FileHandle(forWritingAtPath: outURL.path), let errHandle = FileHandle(forWritingAtPath: errURL.path) else {
            return Output(status: -1, stdout: "", stderr: "cannot create output files", timedOut: false, crashed: false)
        }
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            return Output(status: -1, stdout: "", stderr: "cannot start \(path): \(error)", timedOut: false, crashed: false)
        }
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                process.terminate()
                break
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        try? outHandle.close()
        try? errHandle.close()
        let stdoutData = (try? Data(contentsOf: outURL)) ?? Data(), stderrData = (try? Data(contentsOf: errURL)) ?? Data()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self), timedOut: timedOut,
                      crashed: process.terminationReason == .uncaughtSignal)
    }
}
