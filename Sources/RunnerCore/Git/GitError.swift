/// Why a ref could not be resolved or a commit checked out. The engine maps the kind to a
/// hint and the param's own error code; the message names the ref and the repository.
public struct GitError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The path is not a git repository (or cannot be opened).
        case noRepository
        /// The text is not something a ref can be: empty, control characters, an option-like
        /// leading `-`, or a name git's ref rules refuse.
        case invalidName
        /// No branch, tag, remote branch or object by that name.
        case notFound
        /// A short SHA that more than one object starts with.
        case ambiguous
        /// It resolves, but to a tree or a blob (or a tag of one), not to a commit.
        case notACommit
        /// The repository has no commit yet.
        case emptyRepository
    }

    public var kind: Kind
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
