import FoundationEssentials
import RunnerCore

/// The hook runner installs: a small shell script that names the runner binary and carries
/// its registrations as comment lines (`# runner-hook-entry: {json}`), so `hook list` and
/// `hook run` need no other file. A hook that was there before is kept as
/// `<event>.runner-chained` and run first, with the same input (see `HookInstaller`).
public enum HookFile {
    /// The line that marks a hook as runner's: a hook without it is someone else's.
    public static let marker = "# runner-hook: managed by `runner hook install`"
    public static let entryPrefix = "# runner-hook-entry: "
    public static let chainedSuffix = ".runner-chained"
    /// The git events a hook can be installed for.
    public static let events = GitTrigger.Event.allCases.map(\.rawValue)

    /// The registrations a hook carries; nil when runner did not write it.
    public static func entries(inHook text: String) -> [HookEntry]? {
        guard text.contains(marker) else { return nil }
        return text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(entryPrefix) else { return nil }
            return try? JSONDecoder().decode(HookEntry.self, from: Data(line.dropFirst(entryPrefix.count).utf8))
        }
    }

    /// Single-quoted for sh: no expansion of anything inside.
    public static func shellQuoted(_ text: String) -> String { "'" + text.replacing("'", with: "'\\''") + "'" }

    /// The hook for `event` that calls `runner hook run` with `entries`. Events that give
    /// their updates on stdin (post-receive, reference-transaction) keep it in a temporary
    /// file, so the chained hook and runner each read all of it.
    public static func script(event: String, runner: String, entries: [HookEntry]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let lines = entries.map { entryPrefix + String(decoding: (try? encoder.encode($0)) ?? Data(), as: UTF8.self) }
        var out = """
        #!/bin/sh
        \(marker)
        # Launches runner pipelines on \(event). Change it with `runner hook install|uninstall`,
        # see it with `runner hook list`. A hook that was here before runs first: \(event)\(chainedSuffix).
        \(lines.joined(separator: "\n"))
        runner=\(shellQuoted(runner))
        status=0

        """
        if RefUpdate.isGivenOnInput(event: event) {
            out += """
            input=$(mktemp) || exit 0
            cat > "$input"
            if [ -x "$0\(chainedSuffix)" ]; then "$0\(chainedSuffix)" "$@" < "$input"; status=$?; fi
            "$runner" hook run \(event) --hook "$0" "$@" < "$input"
            rm -f "$input"
            exit $status

            """
        } else {
            out += """
            if [ -x "$0\(chainedSuffix)" ]; then "$0\(chainedSuffix)" "$@"; status=$?; fi
            "$runner" hook run \(event) --hook "$0" "$@" < /dev/null
            exit $status

            """
        }
        return out
    }

    /// The registrations after installing `added` over `existing`: one per pipeline, the one
    /// installed last wins and goes last.
    public static func merging(_ added: [HookEntry], into existing: [HookEntry]) -> [HookEntry] {
        var entries = existing
        for entry in added {
            entries.removeAll { $0.pipeline == entry.pipeline }
            entries.append(entry)
        }
        return entries
    }
}
