#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore

/// Where the engine keeps a run's files: `.runner/` or `$RUNNER_HOME`.
public struct StateDirectory: Sendable {
    public let root: URL
    /// `root.path`, made once (attempt paths are joined onto it at every launch).
    let rootPath: String

    public init(root: URL) {
        self.root = root
        let path = root.path
        rootPath = path.hasSuffix("/") ? path : path + "/"
    }

    /// `$RUNNER_HOME`, else `.runner` in the working directory.
    public static func resolve(environment: [String: String], currentDirectory: String) -> StateDirectory {
        resolve(home: environment["RUNNER_HOME"], currentDirectory: currentDirectory)
    }

    /// `home`: the value of `RUNNER_HOME`, if set.
    public static func resolve(home: String?, currentDirectory: String) -> StateDirectory {
        if let home, !home.isEmpty {
            return StateDirectory(root: URL(fileURLWithPath: home, relativeTo: URL(fileURLWithPath: currentDirectory)).standardizedFileURL)
        }
        return StateDirectory(root: URL(fileURLWithPath: currentDirectory).appendingPathComponent(".runner"))
    }

    public var database: URL { root.appendingPathComponent("state.db") }

    public func logs(of run: RunID) -> URL { root.appendingPathComponent("logs").appendingPathComponent(run.rawValue) }

    /// A file name for an instance: `promote[a/b]` → `promote[a%2Fb]`; a long one cut and
    /// hashed so that it fits (see `InstanceFileName`).
    public static func fileName(for name: StepName) -> String { InstanceFileName.make(name) }

    /// The files of one attempt share this stem: `<stem>.log`, `<stem>.output`, `<stem>.progress`.
    /// Plain string joins: this runs once per attempt, where URL parsing showed in profiles.
    public func attemptStem(run: RunID, step: StepName, serial: Int) -> String {
        rootPath + "logs/" + run.rawValue + "/" + Self.fileName(for: step) + "." + String(serial)
    }

    public func logPath(run: RunID, step: StepName, serial: Int) -> String {
        attemptStem(run: run, step: step, serial: serial) + ".log"
    }

    /// The state directory and its `logs`, made private to their owner (0700): the files in
    /// it (0600) hold run records, logs and outputs. A state directory an older runner made
    /// (0755) is made private too; a `RUNNER_HOME` that is not one (no `state.db` yet) and
    /// existed before is left as it is, its `logs` made private.
    public func ensure() throws {
        try Self.makeDirectory(rootPath + "logs")
        var info = stat()
        let root = String(rootPath.dropLast())
        if stat(root, &info) == 0, info.st_mode & 0o077 != 0, access(rootPath + "state.db", F_OK) == 0 || madeRoot {
            chmod(root, 0o700)
        }
    }

    /// Whether this process made the state directory (so it may set its mode).
    private var madeRoot: Bool { Self.madeDirectories.withLock { $0.contains(String(rootPath.dropLast())) } }
    private static let madeDirectories = Protected<Set<String>>([])

    /// The log directory of one run (made when the run starts executing).
    public func ensureLogs(of run: RunID) throws {
        try Self.makeDirectory(rootPath + "logs/" + run.rawValue)
    }

    /// `mkdir -p`: one mkdir(2) when the parent exists, as it does at every start but the
    /// first; FileManager for the rest (missing parents, and its errors). FileManager alone
    /// goes through URL and attribute handling for every directory, at every start.
    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) == 0 { return }
        if errno == EEXIST {
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { return }
        }
        // Missing parents: each made here is private too (and remembered, for `ensure`).
        var missing: [String] = []
        var parent = path
        while !parent.isEmpty && parent != "/" && access(parent, F_OK) != 0 {
            missing.append(parent)
            parent = String(parent[..<(parent.lastIndex(of: "/") ?? parent.startIndex)])
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        madeDirectories.withLock { $0.formUnion(missing) }
    }
}
