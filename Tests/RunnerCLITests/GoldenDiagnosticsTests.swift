import Foundation
import RunnerTestSupport
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
            if rendered.isEmpty { try? FileManager.default.removeItem(at: golden) } else { try? rendered.write(to: golden, atomically: false, encoding: .utf8) }
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
            .notRegularFile: "PipelineLoaderTests",
            .workdirOutsidePipeline: "WorkdirConfinementTests (a symlink)",
        ]
        let expected = DiagnosticCode.allCases.filter { $0.rawValue.hasPrefix("RUN1") || ($0.rawValue.hasPrefix("RUN20")) }
        let missing = expected.filter { !seen.contains($0) && elsewhere[$0] == nil }
        #expect(missing.isEmpty, "codes without a golden fixture: \(missing.map(\.rawValue))")
    }
}

/// The example pipelines load without a single diagnostic, and plan with the params a user
/// would give.
@Suite struct SeedPipelineTests {
    static let files = ((try? FileManager.default.contentsOfDirectory(atPath: Paths.pipelines.path)) ?? [])
        .filter { $0.hasSuffix(".yaml") }.sorted()

    @Test func allFivePipelinesArePresent() {
        #expect(Self.files == ["backup.yaml", "docs-publish.yaml", "ingestion.yaml", "promotion.yaml", "restore.yaml"])
    }

    @Test(arguments: files)
    func loadsCleanly(_ name: String) {
        let result = PipelineLoader.load(path: Paths.pipelines.appendingPathComponent(name).path)
        #expect(result.isValid)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map { "\($0.location?.description ?? ""): \($0.message)" })")
    }

    @Test(arguments: [
        ("docs-publish.yaml", ["targetRef=HEAD"]),
        ("ingestion.yaml", ["trigger_mode=manual", "run_kind=official_ingestion", "target_types=official,appearance"]),
        ("backup.yaml", ["dirPath=dump1"]),
        ("restore.yaml", ["zipFilePath=dump1/job/backup-job.zip"]),
        ("promotion.yaml", ["source_app=my-app-development", "targets=my-app-staging,my-app-production"]),
    ])
    func plans(_ name: String, _ params: [String]) throws {
        // docs-publish.yaml resolves HEAD of its `repo: ..`: the pipelines are copied into a
        // repository made here, so the test does not depend on this checkout being one.
        let repository = try TemporaryGitRepository()
        try repository.commit(["README": "plans\n"])
        try repository.copy(Paths.pipelines, to: "pipelines")
        if name == "restore.yaml" {
            // The zip must exist in the caller's folder: `cli:<user>` for the CLI.
            let user = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "\(geteuid())"
            let folder = repository.path(".demo/belayer/storage/cli:\(user)/dump1/job")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data("zip".utf8).write(to: URL(fileURLWithPath: folder + "/backup-job.zip"))
        }
        let r = runCLI(["plan", repository.path("pipelines/\(name)")] + params.flatMap { ["-p", $0] })
        #expect(r.status == 0, "\(r.err)")
    }

    /// Seed 003: paths stay inside the storage area at the param check, before any step runs.
    @Test(arguments: [("backup.yaml", "dirPath", "../etc"), ("backup.yaml", "dirPath", "a/./b"), ("backup.yaml", "dirPath", "/abs"),
                      ("restore.yaml", "zipFilePath", "../x.zip"), ("restore.yaml", "zipFilePath", "dump1/x.tar")])
    func pathsAreConfined(_ file: String, _ param: String, _ value: String) {
        let r = runCLI(["plan", Paths.pipelines.appendingPathComponent(file).path, "-p", "\(param)=\(value)"])
        #expect(r.status == 2)
        #expect(r.err.contains("error[INVALID_PATH]"), "\(r.err)")
    }

    /// Seed 002's validation table, through `plan`: each bad input gets its seed code.
    @Test(arguments: [
        ("target_types=", "INVALID_TARGET"), ("target_types=official,unknown", "INVALID_TARGET"),
        ("from_published_at=2026-13-01", "INVALID_TIMESTAMP"), ("trigger_mode=sometimes", "INVALID_TRIGGER_MODE"),
        ("run_kind=everything", "INVALID_RUN_KIND"),
    ])
    func ingestionValidationCodes(_ bad: String, _ code: String) {
        var params = ["trigger_mode=manual", "run_kind=official_ingestion", "target_types=official"]
        params.removeAll { $0.hasPrefix(bad.prefix { $0 != "=" } + "=") }
        params.append(bad)
        let r = runCLI(["plan", Paths.pipelines.appendingPathComponent("ingestion.yaml").path] + params.flatMap { ["-p", $0] })
        #expect(r.status == 2)
        #expect(r.err.contains("error[\(code)]"), "\(r.err)")
    }
}
