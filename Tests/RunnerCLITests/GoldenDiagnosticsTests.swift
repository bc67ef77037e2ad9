import Foundation
import Testing
@testable import RunnerCLI
import RunnerCore
import RunnerYAML

/// `Tests/Fixtures/pipelines/{valid,invalid}/NNN-name.yaml` with the rendered diagnostics in
/// `NNN-name.diagnostics.txt`. Re-record with `RECORD_GOLDENS=1 swift test` and review the diff.
@Suite struct GoldenDiagnosticsTests {
    static let root = Paths.fixtures.appendingPathComponent("pipelines")
    static let recording = ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1"

    static func fixtures(_ kind: String) -> [String] {
        let dir = root.appendingPathComponent(kind)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { "\(kind)/\($0)" }
    }

    static func render(_ name: String) -> (PipelineLoader.Result, String) {
        let bytes = [UInt8]((try? Data(contentsOf: root.appendingPathComponent(name))) ?? Data())
        let result = PipelineLoader.load(bytes: bytes, file: name)
        let renderer = DiagnosticRenderer(colors: false)
        renderer.register(name, text: String(decoding: bytes, as: UTF8.self))
        return (result, result.diagnostics.map(renderer.render).joined())
    }

    static func check(_ name: String, rendered: String) {
        let golden = root.appendingPathComponent(name.replacingOccurrences(of: ".yaml", with: ".diagnostics.txt"))
        if recording {
            if rendered.isEmpty { try? FileManager.default.removeItem(at: golden) } else { try? rendered.write(to: golden, atomically: true, encoding: .utf8) }
            return
        }
        let expected = (try? String(contentsOf: golden, encoding: .utf8)) ?? ""
        #expect(rendered == expected, "\(name): rendered diagnostics differ from \(golden.lastPathComponent); re-record with RECORD_GOLDENS=1 and review the diff")
    }

    @Test(arguments: fixtures("invalid"))
    func invalidFixture(_ name: String) {
        let (result, rendered) = Self.render(name)
        #expect(!result.isValid, "\(name) should be invalid")
        #expect(result.diagnostics.allSatisfy { $0.location != nil }, "\(name): every diagnostic is located")
        Self.check(name, rendered: rendered)
    }

    @Test(arguments: fixtures("valid"))
    func validFixture(_ name: String) {
        let (result, rendered) = Self.render(name)
        #expect(result.isValid, "\(name): \(rendered)")
        Self.check(name, rendered: rendered)
    }

    @Test func atLeastFortyInvalidCases() {
        #expect(Self.fixtures("invalid").count >= 40)
    }

    /// Every loader and validation code has a golden case, except those that need a file
    /// system state or sizes a fixture cannot hold; their tests are named here.
    @Test func everyCodeIsCovered() {
        var seen = Set<DiagnosticCode>()
        for name in Self.fixtures("invalid") + Self.fixtures("valid") {
            seen.formUnion(Self.render(name).0.diagnostics.map(\.code))
        }
        let elsewhere: [DiagnosticCode: String] = [
            .scalarTooLong: "MalformedCorpusTests", .fileTooLarge: "MalformedCorpusTests", .unreadableFile: "CLITests",
        ]
        let expected = DiagnosticCode.allCases.filter { $0.rawValue.hasPrefix("RUN1") || ($0.rawValue.hasPrefix("RUN20")) }
        let missing = expected.filter { !seen.contains($0) && elsewhere[$0] == nil }
        #expect(missing.isEmpty, "codes without a golden fixture: \(missing.map(\.rawValue))")
    }
}

enum Paths {
    /// The package root, found from this file's path.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")
    static let pipelines = packageRoot.appendingPathComponent("pipelines")
}
