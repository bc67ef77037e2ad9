import Foundation
import Testing
import RunnerCore
import RunnerTestSupport

/// `docs/DIAGNOSTICS.md` lists every code with its meaning and fix, generated from
/// `DiagnosticCode`. Regenerate with `RECORD_GOLDENS=1 swift test`.
@Suite struct DiagnosticsDocTests {
    static func render() -> String {
        var out = """
        # Diagnostic codes

        Every problem `runner` reports has a stable code. Codes are never renumbered; new ones are
        added. A pipeline may declare its own codes for its contract (a param's `error:`, a
        concurrency `error:`); those are shown instead, and the runner's code stays in the JSON
        output as `code`.

        This file is generated from `Sources/RunnerCore/Diagnostics/DiagnosticCode+Help.swift`
        by `RECORD_GOLDENS=1 swift test --filter DiagnosticsDocTests`; a test fails when it is stale.

        """
        let groups: [(String, String)] = [
            ("RUN1", "YAML (the file as text)"), ("RUN20", "Validation and the DAG"), ("RUN21", "Param values given to a run"),
            ("RUN4", "Run state"), ("RUN6", "HTTP API"), ("RUN7", "Command line"),
        ]
        for (prefix, title) in groups {
            out += "\n## \(title)\n\n| code | severity | meaning | how to fix |\n| --- | --- | --- | --- |\n"
            for code in DiagnosticCode.allCases where code.rawValue.hasPrefix(prefix) {
                let help = code.help.replacingOccurrences(of: "|", with: "\\|")
                let summary = code.summary.replacingOccurrences(of: "|", with: "\\|")
                out += "| `\(code.rawValue)` | \(code.defaultSeverity.rawValue) | \(summary) | \(help) |\n"
            }
        }
        return out
    }

    @Test func documentListsEveryCode() throws {
        let path = Paths.packageRoot.appendingPathComponent("docs/DIAGNOSTICS.md")
        let rendered = Self.render()
        if ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1" {
            try rendered.write(to: path, atomically: false, encoding: .utf8)
        }
        let current = try String(contentsOf: path, encoding: .utf8)
        #expect(current == rendered, "docs/DIAGNOSTICS.md is stale: regenerate it")
        for code in DiagnosticCode.allCases { #expect(current.contains("`\(code.rawValue)`")) }
    }

    @Test func codesAreUniqueAndWellFormed() {
        let raw = DiagnosticCode.allCases.map(\.rawValue)
        #expect(Set(raw).count == raw.count)
        #expect(raw.allSatisfy { $0.count == 7 && $0.hasPrefix("RUN") && Int($0.dropFirst(3)) != nil })
    }
}
