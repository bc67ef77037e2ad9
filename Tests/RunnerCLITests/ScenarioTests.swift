import Foundation
import Testing
import RunnerTestSupport

/// End-to-end scenarios through the built binary: `Tests/Fixtures/scenarios/NNN-name.yaml`
/// run with `runner apply --json` in a scratch directory; the final run and step states,
/// attempts and error codes must equal `NNN-name.expected.json`. Re-record with
/// `RECORD_GOLDENS=1 swift test --filter ScenarioTests` and review the diff.
@Suite struct ScenarioTests {
    static let directory = Paths.fixtures.appendingPathComponent("scenarios")

    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// The parts of a finished run a scenario pins down; no times, ids or paths.
    static func summary(of json: [String: Any], exit: Int32) -> [String: Any] {
        var steps: [String: Any] = [:]
        for step in json["steps"] as? [[String: Any]] ?? [] {
            var s: [String: Any] = ["status": step["status"] ?? "", "attempts": step["attempts"] ?? 0]
            if let code = step["error_code"] { s["error_code"] = code }
            if let outputs = step["outputs"] as? [String: String], !outputs.isEmpty { s["outputs"] = outputs }
            steps[step["name"] as? String ?? "?"] = s
        }
        let attempts = (json["attempts"] as? [[String: Any]] ?? []).map { a -> [Any] in
            [a["step"] ?? "", a["exit_code"] ?? NSNull(), a["error_code"] ?? NSNull(), a["timed_out"] ?? false]
        }
        var out: [String: Any] = ["exit": exit, "status": json["status"] ?? "", "steps": steps, "attempts": attempts]
        if let code = json["error_code"] { out["error_code"] = code }
        return out
    }

    static func canonical(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys]) else { return "" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    @Test(arguments: names)
    func scenario(_ name: String) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let file = scratch.appendingPathComponent("pipeline.yaml")
        try FileManager.default.copyItem(at: Self.directory.appendingPathComponent(name + ".yaml"), to: file)
        let out = try await offPool {
            BinaryRunner.run(["apply", "--json", "--parallelism", "1", file.path], environment: ["RUNNER_HOME": scratch.appendingPathComponent(".runner").path],
                             directory: scratch, timeout: 60)
        }
        #expect(!out.crashed && !out.timedOut, "\(out.stderr)")
        let json = (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8))) as? [String: Any] ?? [:]
        let actual = Self.canonical(Self.summary(of: json, exit: out.status))
        let golden = Self.directory.appendingPathComponent(name + ".expected.json")
        if ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1" {
            try actual.write(to: golden, atomically: false, encoding: .utf8)
        }
        let expected = (try? String(contentsOf: golden, encoding: .utf8)) ?? "(missing \(golden.lastPathComponent))"
        #expect(actual == expected, "\(name): \(out.stderr)")
    }
}
