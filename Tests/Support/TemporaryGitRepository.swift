import Foundation

/// A git repository made with the git CLI for one test, removed with the value. Nothing of the
/// machine's git configuration is read, and author, committer and dates are fixed: the same
/// commits get the same SHAs on every machine, at any time, in a checkout or not.
public final class TemporaryGitRepository {
    /// The work tree.
    public let root: URL
    public var path: String { root.path }

    /// What git runs with: no global or system configuration, a fixed identity and date.
    public static let environment = [
        "PATH": "/usr/bin:/bin", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    ]

    /// An empty repository (no commit yet) at `directory`, made if missing; by default a new
    /// temporary directory.
    public init(at directory: URL? = nil, branch: String = "main") throws {
        root = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("repo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try git("init", "-q", "-b", branch)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    public func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Runs git in the work tree; returns its trimmed stdout.
    @discardableResult
    public func git(_ arguments: String...) throws -> String { try Self.git(arguments, in: root) }

    /// Writes `files` (paths relative to the work tree, folders made as needed), stages every
    /// change and commits; returns the commit's SHA.
    @discardableResult
    public func commit(_ files: [String: String] = [:], message: String = "commit") throws -> String {
        for (relative, text) in files {
            let file = root.appendingPathComponent(relative)
            let folder = file.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try text.write(to: file, atomically: false, encoding: .utf8)
        }
        try git("add", "-A")
        try git("commit", "-q", "--allow-empty", "-m", message)
        return try git("rev-parse", "HEAD")
    }

    /// Copies `file` into the work tree at `relative` (not committed); returns its path.
    @discardableResult
    public func copy(_ file: URL, to relative: String) throws -> String {
        let target = root.appendingPathComponent(relative)
        let folder = target.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: file, to: target)
        return target.path
    }

    /// Runs git in `directory` with `environment` (HOME is that directory) and `input` on stdin;
    /// returns its trimmed stdout, or throws with its stderr when it fails.
    @discardableResult
    public static func git(_ arguments: [String], in directory: URL, input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = environment.merging(["HOME": directory.path]) { $1 }
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        try process.run()
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try inPipe.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let problem = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("git \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(problem)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
