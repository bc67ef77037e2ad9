import FoundationEssentials
import RunnerCore

/// What a template is rendered about: the request, the run (when there is one), the error
/// (for an error body). Built by the server from what it already read; turned into the
/// expression fields (`run.id`, `request.path.jobId`) by `ContractRenderer`.
public struct RequestFacts: Sendable {
    public var actor: String?
    public var method: String
    public var path: [String: String]
    /// A launch's params as the request gave them (secret ones left out): what `params.X`
    /// reads in an error about a launch that made no run.
    public var params: [String: Value]

    public init(actor: String?, method: String, path: [String: String] = [:], params: [String: Value] = [:]) {
        self.actor = actor
        self.method = method
        self.path = path
        self.params = params
    }
}

/// A run as a contract shows it: its records, and what the server derived from its pipeline.
public struct RunFacts: Sendable {
    public var stored: StoredRun
    /// Whether the pipeline retries its failure (false for a run that did not fail).
    public var retryable: Bool
    public var progress: Int
    public var progressMessage: String?

    public init(stored: StoredRun, retryable: Bool, progress: Int, progressMessage: String?) {
        self.stored = stored
        self.retryable = retryable
        self.progress = progress
        self.progressMessage = progressMessage
    }
}

public struct ErrorFacts: Sendable {
    public var status: Int
    public var code: String
    public var message: String
    /// The param the error is about, if any.
    public var param: String?

    public init(status: Int, code: String, message: String, param: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.param = param
    }
}
