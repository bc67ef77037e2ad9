#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore
import RunnerEngine

/// What a command run on this machine does to runs and tokens is audited like what the API
/// does: `runs cancel`, `runs resume --from`, `token create`, `token revoke`. There is no token
/// to name the actor, so it is `cli:<user>`, the account of the process's effective uid.
enum LocalAudit {
    /// `cli:root`; `cli:uid-1000` for a uid without an account. Not `$USER`, which the caller sets.
    static var actor: String {
        let uid = geteuid()
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        if getpwuid_r(uid, &entry, &buffer, buffer.count, &found) == 0, let found, let name = found.pointee.pw_name {
            return "cli:" + String(cString: name)
        }
        return "cli:uid-\(uid)"
    }

    /// The local user, as the engine audits what it does for this command.
    static var context: AuditContext { AuditContext(actor: actor) }

    /// Records the action (a failure to record does not undo it, as in the server).
    static func record(_ action: String, run: RunID? = nil, pipeline: String? = nil, params: [String: Value] = [:],
                       in service: RunService) {
        try? service.store.appendAudit(AuditRecord(at: Date(), action: action, runID: run, pipeline: pipeline, actor: actor,
                                                   params: params, traceID: nil))
    }
}
