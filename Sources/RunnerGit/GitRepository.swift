import CGit2Shim
import FoundationEssentials
import RunnerCore

/// A resolved ref: the text as given and the commit it names.
public struct ResolvedRef: Sendable, Equatable {
    public var ref: String
    public var sha: String
}

/// One libgit2 repository handle. Not shared between threads (libgit2 objects are not).
public final class GitRepository {
    private let handle: OpaquePointer
    /// The repository's work tree, or the repository itself when bare.
    public let path: String

    /// libgit2's functions; only read once `LibGit2.load()` succeeded (an instance exists).
    private static var git: runner_git_table { LibGit2.functions! }

    /// Opens the repository at `path` (a work tree, a directory inside one, or a bare
    /// repository).
    public init(path: String) throws {
        _ = try LibGit2.load()
        var repository: OpaquePointer?
        let status = Self.git.git_repository_open_ext!(&repository, path, 0, nil)
        guard status == 0, let repository else {
            throw GitError(kind: .noRepository, message: "'\(path)' is not a git repository (\(Self.lastError(status)))")
        }
        handle = repository
        // The work tree for messages (what the user knows), the repository itself when bare.
        let shown = Self.git.git_repository_workdir!(repository) ?? Self.git.git_repository_path!(repository)
        self.path = shown.map { String(cString: $0) }.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? path
    }

    deinit { Self.git.git_repository_free!(handle) }

    /// Resolves a ref as users write it — branch, remote branch, tag (annotated tags peeled),
    /// full or unique short SHA, `HEAD`, and `~N` / `^N` suffixes (`HEAD~2`, `main^`) — to
    /// the 40-hex SHA of a commit. The text is checked before libgit2 sees it; it never
    /// reaches a shell or an argv.
    public func resolveCommit(_ ref: String) throws -> ResolvedRef {
        try Self.check(ref)
        var object: OpaquePointer?
        let status = Self.git.git_revparse_single!(&object, handle, ref)
        guard status == 0, let object else {
            throw error(for: status, ref: ref)
        }
        defer { Self.git.git_object_free!(object) }
        var commit: OpaquePointer?
        let peeled = Self.git.git_object_peel!(&commit, object, GIT_OBJECT_COMMIT)
        guard peeled == 0, let commit else {
            let type = (Self.git.git_object_type2string!(Self.git.git_object_type!(object)).map { String(cString: $0) } ?? "object")
            throw GitError(kind: .notACommit, message: "'\(ref)' in \(path) names a \(type), not a commit")
        }
        defer { Self.git.git_object_free!(commit) }
        return ResolvedRef(ref: ref, sha: Self.hex(Self.git.git_object_id!(commit)))
    }

    private func error(for status: Int32, ref: String) -> GitError {
        if isEmpty && status != GIT_EINVALIDSPEC.rawValue {
            return GitError(kind: .emptyRepository, message: "\(path) has no commits yet, so '\(ref)' names nothing")
        }
        switch status {
        case GIT_EAMBIGUOUS.rawValue:
            return GitError(kind: .ambiguous, message: "'\(ref)' is ambiguous in \(path): more than one object starts with it; give more characters of the SHA")
        case GIT_EUNBORNBRANCH.rawValue:
            return GitError(kind: .emptyRepository, message: "\(path) has no commits yet, so '\(ref)' names nothing")
        case GIT_EINVALIDSPEC.rawValue:
            return GitError(kind: .invalidName, message: "'\(ref)' is not a valid ref or revision (\(Self.lastError(status)))")
        case GIT_ENOTFOUND.rawValue:
            return GitError(kind: .notFound, message: "no branch, tag or commit '\(ref)' in \(path)")
        default:
            return GitError(kind: .notFound, message: "cannot resolve '\(ref)' in \(path): \(Self.lastError(status))")
        }
    }

    /// No commit yet: HEAD names a branch that does not exist (`git_repository_is_empty`
    /// only says so when that branch is the configured default one).
    private var isEmpty: Bool {
        guard Self.git.git_repository_head_unborn!(handle) == 1 else { return false }
        var iterator: OpaquePointer?
        guard Self.git.git_reference_iterator_new!(&iterator, handle) == 0, let iterator else { return false }
        defer { Self.git.git_reference_iterator_free!(iterator) }
        var name: UnsafePointer<CChar>?
        return Self.git.git_reference_next_name!(&name, iterator) == GIT_ITEROVER.rawValue
    }

    /// What a ref argument may look like before it is handed to libgit2: printable, no
    /// leading `-`, and when it is a name (not a SHA or `HEAD`), a name git's ref rules
    /// accept as a branch (checked by libgit2's own validity rules). `~N` and `^N` suffixes
    /// are allowed after it.
    public static func check(_ ref: String) throws {
        func invalid(_ why: String) -> GitError {
            GitError(kind: .invalidName, message: "'\(ref.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : String($0) }.joined())' is not a valid ref: \(why)")
        }
        guard !ref.isEmpty else { throw invalid("it is empty") }
        guard ref.utf8.count <= 1024 else { throw invalid("longer than 1,024 bytes") }
        guard !ref.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw invalid("it contains control characters")
        }
        guard !ref.hasPrefix("-") else { throw invalid("it starts with '-'") }
        // Split off `~N`, `^N` suffixes (`HEAD~2`, `main^`, `v1^2~3`).
        var base = Substring(ref)
        while let last = base.lastIndex(where: { $0 == "~" || $0 == "^" }),
              base[base.index(after: last)...].allSatisfy(\.isASCII) && base[base.index(after: last)...].allSatisfy(\.isNumber) {
            base = base[..<last]
        }
        guard !base.isEmpty else { throw invalid("nothing before '\(ref.first!)'") }
        if base == "HEAD" || isHex(base) { return }
        let name = base.hasPrefix("refs/") ? String(base) : "refs/heads/" + base
        _ = try LibGit2.load()
        var valid: Int32 = 0
        guard Self.git.git_reference_name_is_valid!(&valid, name) == 0, valid == 1 else {
            throw invalid("git does not allow this name (no spaces, '..', '@{', '~', '^', ':', '?', '*', '[', '\\\\', or a '.lock' ending)")
        }
    }

    /// Writes the tree of commit `sha` into `directory` (created if missing; it should be
    /// empty): a clean checkout of exactly that commit, files with their modes and symlinks.
    /// The repository's own index, HEAD and work tree are not touched; bare repositories work.
    public func checkout(commit sha: String, into directory: String) throws {
        var oid = git_oid()
        guard Self.isHex(sha), sha.utf8.count == 40, Self.git.git_oid_fromstr!(&oid, sha) == 0 else {
            throw GitError(kind: .invalidName, message: "'\(sha)' is not a full commit SHA")
        }
        var commit: OpaquePointer?
        let found = Self.git.git_commit_lookup!(&commit, handle, &oid)
        guard found == 0, let commit else {
            throw GitError(kind: .notFound, message: "commit \(sha) is not in \(path) (\(Self.lastError(found)))")
        }
        defer { Self.git.git_commit_free!(commit) }
        var tree: OpaquePointer?
        let treeStatus = Self.git.git_commit_tree!(&tree, commit)
        guard treeStatus == 0, let tree else {
            throw GitError(kind: .notFound, message: "the tree of commit \(sha) is missing in \(path) (\(Self.lastError(treeStatus)))")
        }
        defer { Self.git.git_tree_free!(tree) }
        // Compared with an empty index, every file of the tree is new, so all are written,
        // whatever the repository's HEAD or index say.
        var empty: OpaquePointer?
        guard Self.git.git_index_new!(&empty) == 0, let empty else {
            throw GitError(kind: .noRepository, message: "libgit2: \(Self.lastError(-1))")
        }
        defer { Self.git.git_index_free!(empty) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var options = git_checkout_options()
        _ = Self.git.git_checkout_options_init!(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION))
        options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_DONT_UPDATE_INDEX.rawValue
            | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH.rawValue
        options.baseline_index = empty
        let status = directory.withCString { target -> Int32 in
            options.target_directory = target
            return Self.git.git_checkout_tree!(handle, tree, &options)
        }
        guard status == 0 else {
            throw GitError(kind: .notFound, message: "checking out \(sha) from \(path) into \(directory) failed: \(Self.lastError(status))")
        }
    }

    /// Where git runs this repository's hooks: `core.hooksPath` when set (relative to the
    /// work tree, or to the repository when bare), else `hooks/` in the git directory.
    public var hooksDirectory: String {
        let gitDirectory = Self.git.git_repository_path!(handle).map { String(cString: $0) } ?? path
        var config: OpaquePointer?
        if Self.git.git_repository_config_snapshot!(&config, handle) == 0, let config {
            defer { Self.git.git_config_free!(config) }
            var buffer = git_buf()
            defer { Self.git.git_buf_dispose!(&buffer) }
            if Self.git.git_config_get_path!(&buffer, config, "core.hooksPath") == 0, let pointer = buffer.ptr {
                let configured = String(cString: pointer)
                if configured.hasPrefix("/") { return configured }
                let base = Self.git.git_repository_workdir!(handle).map { String(cString: $0) } ?? gitDirectory
                return URL(fileURLWithPath: configured, relativeTo: URL(fileURLWithPath: base)).standardizedFileURL.path
            }
        }
        return URL(fileURLWithPath: gitDirectory).appendingPathComponent("hooks").path
    }

    /// HEAD: the branch it names (nil when detached) and its commit; nil when unborn.
    public func head() -> (ref: String?, sha: String)? {
        var reference: OpaquePointer?
        guard Self.git.git_repository_head!(&reference, handle) == 0, let reference else { return nil }
        defer { Self.git.git_reference_free!(reference) }
        var object: OpaquePointer?
        guard Self.git.git_reference_peel!(&object, reference, GIT_OBJECT_COMMIT) == 0, let object else { return nil }
        defer { Self.git.git_object_free!(object) }
        let detached = Self.git.git_repository_head_detached!(handle) == 1
        return (detached ? nil : Self.git.git_reference_name!(reference).map { String(cString: $0) }, Self.hex(Self.git.git_object_id!(object)))
    }

    static func isHex<S: StringProtocol>(_ text: S) -> Bool {
        (4...40).contains(text.utf8.count) && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    static func hex(_ oid: UnsafePointer<git_oid>?) -> String {
        var buffer = [CChar](repeating: 0, count: 41)
        _ = Self.git.git_oid_tostr!(&buffer, buffer.count, oid)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func lastError(_ status: Int32) -> String {
        guard let error = Self.git.git_error_last!(), let message = error.pointee.message else { return "libgit2 error \(status)" }
        return String(cString: message)
    }
}

/// libgit2, loaded the first time git is needed (see CGit2Shim).
enum LibGit2 {
    static let functions: runner_git_table? = runner_git()?.pointee

    static func load() throws -> runner_git_table {
        guard let functions else { throw GitError(kind: .noRepository, message: String(cString: runner_git_error())) }
        return functions
    }
}
