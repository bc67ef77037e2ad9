import FoundationEssentials
import RunnerCore

/// An audit log entry as `runner audit --json` prints it and the API answers it.
public struct AuditJSON: Encodable {
    var at: String
    var action: String
    var code: String?
    var runID: String?
    var pipeline: String?
    var actor: String
    var params: [String: Value]
    var traceID: String?
    enum CodingKeys: String, CodingKey {
        case at, action, code, runID = "run_id", pipeline, actor, params, traceID = "trace_id"
    }

    public init(_ r: AuditRecord) {
        at = Timestamp.format(r.at)
        action = r.action
        code = r.code
        runID = r.runID?.rawValue
        pipeline = r.pipeline
        actor = r.actor
        params = r.params
        traceID = r.traceID
    }
}
