import Foundation
import RunnerCore

/// Git as a dictionary: repository path → ref → SHA, and the files each commit holds. The
/// messages are shaped as libgit2's adapter words them (the ref and the repository named).
public struct FakeRefResolver: RefResolver {
    public var refs: [String: [String: String]]
    public var trees: [String: [String: String]] = [:]

    public init(refs: [String: [String: String]], trees: [String: [String: String]] = [:]) {
        self.refs = refs
        self.trees = trees
    }

    public func resolve(ref: String, in repository: String) throws(GitError) -> RecordedRef {
        guard let known = refs[repository] else {
            throw GitError(kind: .noRepository, message: "'\(repository)' is not a git repository")
        }
        guard let sha = known[ref] else {
            throw GitError(kind: .notFound, message: "no branch, tag or commit '\(ref)' in \(repository)")
        }
        return RecordedRef(sha: sha, repository: repository)
    }

    public func checkout(_ commit: RecordedRef, into directory: String) throws {
        guard let files = trees[commit.sha] else {
            throw GitError(kind: .notFound, message: "commit \(commit.sha) is not in \(commit.repository)")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(toFile: directory + "/" + name, atomically: false, encoding: .utf8)
        }
    }
}
