#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore

/// Installs, removes and lists runner's hooks in one hooks directory. File operations only:
/// each returns what it did and throws what failed; the CLI says it.
///
/// A hook that was there before runner's is renamed `<event>.runner-chained` (the script runs
/// it first); removing the last registration puts it back.
public struct HookInstaller: Sendable {
    /// Where git runs the repository's hooks.
    public var directory: String
    /// The runner binary the hooks call (absolute).
    public var runner: String

    public init(directory: String, runner: String) {
        self.directory = directory
        self.runner = runner
    }

    /// The installer for the repository at `repository` (a work tree, a directory inside one,
    /// or bare), in its hooks directory (`core.hooksPath` when set).
    public init(repository: String, runner: String) throws {
        self.init(directory: try GitRepository(path: repository).hooksDirectory, runner: runner)
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public func hook(_ event: String) -> String { directory + "/" + event }

    /// What `adopt` found in an event's hook.
    public struct Adopted: Sendable {
        /// The registrations of runner's hook (none when there was no hook, or someone else's).
        public var entries: [HookEntry]
        /// Someone else's hook was there: it is now `<event>.runner-chained`.
        public var hasChainedExisting: Bool
    }

    /// Makes the hook of `event` runner's to write: the registrations it already holds, or,
    /// when the hook is someone else's, moves it to `<event>.runner-chained` (refused when
    /// that name is taken too).
    public func adopt(_ event: String) throws -> Adopted {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let hook = hook(event)
        guard let text = try? String(contentsOfFile: hook, encoding: .utf8) else {
            return Adopted(entries: [], hasChainedExisting: false)
        }
        if let existing = HookFile.entries(inHook: text) {
            return Adopted(entries: existing, hasChainedExisting: false)
        }
        let chained = hook + HookFile.chainedSuffix
        guard !FileManager.default.fileExists(atPath: chained) else {
            throw Failure("\(hook) is not runner's and \(chained) exists too; move one of them away")
        }
        try FileManager.default.moveItem(atPath: hook, toPath: chained)
        return Adopted(entries: [], hasChainedExisting: true)
    }

    /// Writes the hook of `event` with these registrations (replacing it whole).
    public func write(_ event: String, entries: [HookEntry]) throws {
        try Self.write(HookFile.script(event: event, runner: runner, entries: entries), to: hook(event))
    }

    /// Writes an executable script beside `path` and renames it over: git never runs half a hook.
    public static func write(_ text: String, to path: String) throws {
        let temporary = path + ".runner-tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        chmod(temporary, 0o755)
        guard rename(temporary, path) == 0 else {
            throw Failure("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// What `unregister` did to an event's hook.
    public struct Removal: Sendable {
        public var removed = 0
        /// The last registration went, and the hook that was there before is back.
        public var hasRestoredChained = false
    }

    /// Removes the registrations of `event`'s hook: every one, or `pipeline`'s only. The hook
    /// goes with its last registration, and a chained hook takes its place again. Nothing to
    /// do when the hook is not runner's.
    public func unregister(_ event: String, pipeline: String?) throws -> Removal {
        let hook = hook(event)
        var removal = Removal()
        guard let text = try? String(contentsOfFile: hook, encoding: .utf8),
              let entries = HookFile.entries(inHook: text) else { return removal }
        let kept = entries.filter { entry in pipeline.map { entry.pipeline != $0 } ?? false }
        removal.removed = entries.count - kept.count
        if kept.isEmpty {
            try FileManager.default.removeItem(atPath: hook)
            if FileManager.default.fileExists(atPath: hook + HookFile.chainedSuffix) {
                try FileManager.default.moveItem(atPath: hook + HookFile.chainedSuffix, toPath: hook)
                removal.hasRestoredChained = true
            }
        } else if kept.count != entries.count {
            try write(event, entries: kept)
        }
        return removal
    }

    /// One installed hook of runner's, as `hook list` shows it.
    public struct Listing: Encodable, Sendable {
        public var event: String
        public var hook: String
        public var chained: Bool
        public var entries: [HookEntry]
    }

    /// runner's hooks in the directory, in the order of `HookFile.events`.
    public func list() -> [Listing] {
        HookFile.events.compactMap { event in
            let hook = hook(event)
            guard let text = try? String(contentsOfFile: hook, encoding: .utf8),
                  let entries = HookFile.entries(inHook: text) else { return nil }
            let chained = FileManager.default.fileExists(atPath: hook + HookFile.chainedSuffix)
            return Listing(event: event, hook: hook, chained: chained, entries: entries)
        }
    }
}
