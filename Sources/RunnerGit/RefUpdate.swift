/// A ref a git event moved: `old` and `new` are commit SHAs (`old` empty when the event does
/// not say), `ref` the full ref name (`HEAD` for a detached HEAD).
public struct RefUpdate: Equatable, Sendable {
    public var old: String
    public var new: String
    public var ref: String

    /// The ref was deleted: git gives the all-zero SHA as its new value.
    public var isDeletion: Bool { new.allSatisfy { $0 == "0" } }

    /// post-receive and reference-transaction give their updates on stdin; post-commit and
    /// post-merge give nothing (HEAD moved).
    public static func isGivenOnInput(event: String) -> Bool {
        event == "post-receive" || event == "reference-transaction"
    }

    /// The updates a hook was told of. `input` (stdin's `<old> <new> <ref>` lines, others
    /// ignored) is read only for the events that give it, reference-transaction only in its
    /// `committed` phase (its `prepared` and `aborted` calls are not updates yet); `head`
    /// (HEAD's branch, nil when detached, and commit) only for the others.
    public static func updates(event: String, hookArguments: [String], input: @autoclosure () -> String,
                               head: @autoclosure () -> (ref: String?, sha: String)?) -> [RefUpdate] {
        guard isGivenOnInput(event: event) else {
            guard let head = head() else { return [] }
            return [RefUpdate(old: "", new: head.sha, ref: head.ref ?? "HEAD")]
        }
        if event == "reference-transaction" && hookArguments.first != "committed" { return [] }
        return input().split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
            return parts.count == 3 ? RefUpdate(old: parts[0], new: parts[1], ref: parts[2]) : nil
        }
    }

    /// Who caused the event, as the hosting tools name them.
    public static func pusher(_ environment: [String: String]) -> String? {
        ["GL_USERNAME", "GL_USER", "GITEA_PUSHER_NAME", "REMOTE_USER", "USER", "LOGNAME"].lazy
            .compactMap { environment[$0] }.first { !$0.isEmpty }
    }
}
