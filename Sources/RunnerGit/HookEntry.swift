/// One registration in an installed hook: which pipeline it launches, for which refs, with
/// which param. Stored as JSON in the hook script itself (see `HookFile`).
public struct HookEntry: Codable, Equatable, Sendable {
    /// The pipeline file (absolute).
    public var pipeline: String
    /// Ref globs; nil: the pipeline's `triggers.git.refs`, read when the hook fires.
    public var refs: [String]?
    /// The gitref param given the new commit; nil: `triggers.git.param`.
    public var param: String?
    /// The state directory runs are recorded in (absolute).
    public var state: String
    /// Launch through this runner server instead (`--server`), with the token in this file.
    public var server: String?
    public var tokenFile: String?
    /// The pipeline's name on the server, when `pipeline` is a name rather than a file.
    public var name: String?

    public init(pipeline: String, refs: [String]?, param: String?, state: String, server: String? = nil,
                tokenFile: String? = nil, name: String? = nil) {
        self.pipeline = pipeline
        self.refs = refs
        self.param = param
        self.state = state
        self.server = server
        self.tokenFile = tokenFile
        self.name = name
    }
}
