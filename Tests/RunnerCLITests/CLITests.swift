import Foundation
import RunnerTestSupport
import Testing
@testable import RunnerCLI
import RunnerCore

/// The CLI in process, with a capturing console.
final class Captured: @unchecked Sendable {
    var out = ""
    var err = ""
    let lock = NSLock()

    func console(colors: Bool = false) -> Console {
        Console(colorsOutput: colors, colorsError: colors) { [self] stream, text in
            lock.lock()
            defer { lock.unlock() }
            if stream == .output { out += text } else { err += text }
        }
    }
}

func runCLI(_ arguments: [String], colors: Bool = false) -> (status: Int32, out: String, err: String) {
    let captured = Captured()
    let status = RunnerCLI.run(arguments, console: captured.console(colors: colors), environment: [:],
                               currentDirectory: Paths.packageRoot.path)
    return (status, captured.out, captured.err)
}

func fixture(_ path: String) -> String { Paths.fixtures.appendingPathComponent(path).path }

@Suite struct UsageTests {
    @Test func noArgumentsPrintsUsageAndExits64() {
        let r = runCLI([])
        #expect(r.status == 64)
        #expect(r.err.contains("USAGE: runner <command>"))
    }

    @Test(arguments: [
        (["valdate", "x.yaml"], "did you mean 'validate'?"),
        (["grpah"], "did you mean 'graph'?"),
        (["validate", "--jsn", "x.yaml"], "did you mean '--json'?"),
        (["graph", "x.yaml", "--format", "mermiad"], "did you mean 'mermaid'?"),
        (["plan"], "usage: runner plan FILE"),
        (["plan", "a.yaml", "b.yaml"], "takes one a FILE"),
        (["plan", "a.yaml", "-p"], "needs a value"),
        (["validate"], "needs at least one FILE"),
        (["--frobnicate"], "unknown option '--frobnicate'"),
        (["validate", "--json=yes", "x.yaml"], "takes no value"),
        (["plan", fixture("pipelines/valid/001-minimal.yaml"), "-p", "novalue"], "-p takes NAME=VALUE"),
    ])
    func usageErrorsExit64WithAHint(_ arguments: [String], _ fragment: String) {
        let r = runCLI(arguments)
        #expect(r.status == 64, "\(arguments): \(r.err)")
        #expect(r.err.contains("error[RUN7001]"), "\(r.err)")
        #expect(r.err.contains(fragment), "\(arguments): \(r.err)")
    }

    @Test func versionAndHelp() {
        #expect(runCLI(["--version"]).out.hasPrefix("runner "))
        #expect(runCLI(["help"]).status == 0)
        #expect(runCLI(["help", "plan"]).out.contains("USAGE: runner plan FILE"))
        #expect(runCLI(["help", "nope"]).status == 64)
    }

    /// Help text is part of the interface: snapshot it (re-record with RECORD_GOLDENS=1).
    @Test(arguments: ["validate", "plan", "graph"])
    func helpSnapshot(_ command: String) throws {
        let r = runCLI([command, "--help"])
        #expect(r.status == 0)
        #expect(r.err.isEmpty)
        let golden = Paths.fixtures.appendingPathComponent("cli/help-\(command).txt")
        if ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1" {
            try r.out.write(to: golden, atomically: false, encoding: .utf8)
        }
        #expect(r.out == (try? String(contentsOf: golden, encoding: .utf8)))
        #expect(runCLI([command, "-h"]).out == r.out)
    }
}

@Suite struct ValidateCommandTests {
    @Test func validFileExitsZero() {
        let r = runCLI(["validate", fixture("pipelines/valid/002-stages-and-needs.yaml")])
        #expect(r.status == 0)
        #expect(r.out.contains("pipeline 'build-test-deploy', 6 steps"))
        #expect(r.err.isEmpty)
    }

    @Test func invalidFileExitsTwoWithFramedDiagnostics() {
        let r = runCLI(["validate", fixture("pipelines/invalid/017-cycle.yaml")])
        #expect(r.status == 2)
        #expect(r.err.contains("017-cycle.yaml:5:13: error[RUN2003]: dependency cycle: a -> c -> b -> a"))
        #expect(r.err.contains("    needs: [c]\n"))
        #expect(r.err.contains("hint: remove one of the 'needs' edges"))
    }

    @Test func missingFileAndDirectory() {
        let missing = runCLI(["validate", "/nonexistent/pipeline.yaml"])
        #expect(missing.status == 2)
        #expect(missing.err.contains("error[RUN1010]: no such file: /nonexistent/pipeline.yaml"))
        let dir = runCLI(["validate", Paths.fixtures.path])
        #expect(dir.status == 2)
        #expect(dir.err.contains("is a directory without .yaml files"))
    }

    @Test func aDirectoryStandsForItsPipelines() {
        let r = runCLI(["validate", Paths.pipelines.path])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.components(separatedBy: "\n").filter { $0.hasPrefix("ok ") }.count == 5)
    }

    @Test func severalFilesReportEachAndSummarise() {
        let r = runCLI(["validate", fixture("pipelines/valid/001-minimal.yaml"), fixture("pipelines/invalid/022-unknown-need.yaml"),
                        fixture("pipelines/invalid/036-version-2.yaml")])
        #expect(r.status == 2)
        #expect(r.out.contains("001-minimal.yaml: pipeline 'minimal'"))
        #expect(r.err.contains("2 of 3 files are invalid: 2 errors"))
    }

    @Test func jsonGivesTheSameAsData() throws {
        let r = runCLI(["validate", "--json", fixture("pipelines/invalid/028-unknown-param.yaml")])
        #expect(r.status == 2)
        struct Out: Decodable {
            struct File: Decodable {
                struct D: Decodable { var code: String; var line: Int; var column: Int; var hint: String?; var message: String }
                var valid: Bool
                var diagnostics: [D]
            }
            var valid: Bool
            var errors: Int
            var files: [File]
        }
        let out = try JSONDecoder().decode(Out.self, from: Data(r.out.utf8))
        #expect(!out.valid)
        #expect(out.errors == 1)
        let d = try #require(out.files.first?.diagnostics.first)
        #expect(d.code == "RUN2012")
        #expect((d.line, d.column) == (7, 9))
        #expect(d.hint == "did you mean 'forceInvalidate'?")
    }

    @Test func codeFramesWorkWithCRLFAndAByteOrderMark() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("crlf-\(UUID().uuidString).yaml")
        try Data([0xEF, 0xBB, 0xBF] + Array("version: 1\r\nname: crlf\r\nsteps:\r\n  - {name: a, run: x, timout: 1m}\r\n".utf8))
            .write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = runCLI(["validate", file.path])
        #expect(r.status == 2)
        #expect(r.err.contains(":4:23: error[RUN2001]: unknown key 'timout'"))
        #expect(r.err.contains("  4 |   - {name: a, run: x, timout: 1m}\n"))
        #expect(r.err.contains("    | " + String(repeating: " ", count: 22) + "^^^^^^\n"))
    }

    @Test func warningsDoNotFail() {
        let r = runCLI(["validate", fixture("pipelines/valid/007-warnings.yaml")])
        #expect(r.status == 0)
        #expect(r.err.contains("warning[RUN2035]"))
        #expect(r.out.contains("6 warnings"))
    }

    @Test func coloursOnlyWhenAllowed() {
        #expect(!runCLI(["validate", fixture("pipelines/invalid/036-version-2.yaml")]).err.contains("\u{1B}["))
        #expect(runCLI(["validate", fixture("pipelines/invalid/036-version-2.yaml")], colors: true).err.contains("\u{1B}[1;31m"))
    }
}

@Suite struct PlanCommandTests {
    /// The fixture's `targetRef` resolves in `repo: ..`: the fixture is copied into a
    /// repository made for the test, so HEAD names a commit whether this checkout is a git
    /// repository or not.
    let repository: TemporaryGitRepository
    let everyKey: String

    init() throws {
        repository = try TemporaryGitRepository()
        try repository.commit(["README": "plan\n"])
        everyKey = try repository.copy(Paths.fixtures.appendingPathComponent("pipelines/valid/006-every-key.yaml"),
                                       to: "pipelines/006-every-key.yaml")
    }

    @Test func showsOrderWavesAndEffectivePolicies() {
        let r = runCLI(["plan", everyKey, "-p", "targetRef=HEAD", "-p", "force=true"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("main: 3 steps in 3 waves"))
        #expect(r.out.contains("build/build"))
        #expect(r.out.contains("timeout  1h30m   retry 2 attempts, backoff 1s×2 ≤30s"))
        #expect(r.out.contains("exit 75 → RATE_LIMITED  retry 4 attempts, backoff 500ms×3 ≤1m jitter equal"))
        #expect(r.out.contains("any failure → BUILD_FAILED"))
        #expect(r.out.contains("(true: runs)"))
        #expect(r.out.contains("for each params.targets → fan[a]"))
        #expect(r.out.contains("rollback: 1 step in 1 wave — runs when a step fails after commit point 'switch'"))
        #expect(r.out.contains("token") && !r.out.contains("secret-value"))
    }

    @Test func paramErrorsUseThePipelinesCodes() {
        let r = runCLI(["plan", everyKey, "-p", "targetRef=HEAD", "-p", "since=yesterday", "-p", "targets=a,z", "-p", "bogus=1"])
        #expect(r.status == 2)
        #expect(r.err.contains("params.since: error[INVALID_TIMESTAMP]: param 'since': 'yesterday' is not an ISO 8601 timestamp"))
        #expect(r.err.contains("params.targets: error[RUN2102]"))
        #expect(r.err.contains("params.bogus: error[RUN2103]: unknown param 'bogus'"))
    }

    @Test func missingRequiredParam() {
        let r = runCLI(["plan", everyKey])
        #expect(r.status == 2)
        #expect(r.err.contains("error[INVALID_TARGET_REF]: missing required param 'targetRef'"))
    }

    @Test func secretParamsAreMasked() {
        let r = runCLI(["plan", everyKey, "-p", "targetRef=HEAD", "-p", "token=secret-value"])
        #expect(r.status == 0)
        #expect(!r.out.contains("secret-value"))
        #expect(r.out.contains("\"***\""))
    }

    @Test func paramsFileAndJSON() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("params-\(UUID().uuidString).json")
        try #"{"targetRef": "HEAD", "count": 5, "targets": ["a", "b"]}"#.write(to: file, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = runCLI(["plan", everyKey, "--params", file.path, "-p", "count=7", "--json"])
        #expect(r.status == 0, "\(r.err)")
        struct Plan: Decodable {
            struct P: Decodable { var name: String; var value: Value?; var source: String }
            struct S: Decodable { var name: String; var wave: Int; var instances: [String]? }
            var params: [P]
            var main: [S]
        }
        let plan = try JSONDecoder().decode(Plan.self, from: Data(r.out.utf8))
        #expect(plan.params.first { $0.name == "count" }?.value == .int(7))
        #expect(plan.params.first { $0.name == "targetRef" }?.value == .string("HEAD"))
        #expect(plan.params.first { $0.name == "mode" }?.source == "default")
        #expect(plan.main.map(\.wave) == [1, 2, 3])
        #expect(plan.main.first { $0.name == "fan" }?.instances == ["fan[a]", "fan[b]"])
        let bad = runCLI(["plan", everyKey, "--params", "/nonexistent.json"])
        #expect(bad.status == 2)
        #expect(bad.err.contains("RUN7002"))
    }

    @Test func invalidPipelineExitsTwo() {
        #expect(runCLI(["plan", fixture("pipelines/invalid/017-cycle.yaml")]).status == 2)
    }
}

@Suite struct GraphCommandTests {
    let file = fixture("pipelines/valid/009-rollback-and-finally.yaml")

    @Test func mermaid() {
        let r = runCLI(["graph", file, "--format", "mermaid"])
        #expect(r.status == 0)
        #expect(r.out.hasPrefix("flowchart TD\n"))
        #expect(r.out.contains("n0 --> n1"))
        #expect(r.out.contains("-. \"failure after commit point\" .-> rollback"))
        #expect(r.out.contains("rollback -. always .-> finally"))
    }

    @Test func dot() {
        let r = runCLI(["graph", file, "-f", "dot"])
        #expect(r.status == 0)
        #expect(r.out.hasPrefix("digraph \"rollback\" {"))
        #expect(r.out.contains("subgraph cluster_rollback"))
        #expect(r.out.contains("n1 -> n2;"))
        #expect(r.out.hasSuffix("}\n"))
    }

    @Test func text() {
        let r = runCLI(["graph", file])
        #expect(r.status == 0)
        #expect(r.out.contains("switch ◆commit  ← deploy"))
    }

    @Test func stagesAreOneEdgeNotAllPairs() {
        let r = runCLI(["graph", fixture("pipelines/valid/002-stages-and-needs.yaml"), "--format", "mermaid"])
        #expect(r.out.contains("stage_0 --> stage_1"))
        #expect(r.out.contains("stage_1 --> stage_2"))
    }
}

/// Through the built binary: exit codes as a shell sees them.
@Suite struct BinaryExitCodeTests {
    @Test func exitCodes() async throws {
        let statuses = try await offPool {
            [BinaryRunner.run(["validate", fixture("pipelines/valid/001-minimal.yaml")]).status,
             BinaryRunner.run(["validate", fixture("pipelines/invalid/017-cycle.yaml")]).status,
             BinaryRunner.run(["valdate"]).status,
             BinaryRunner.run(["plan", fixture("pipelines/valid/006-every-key.yaml")]).status,
             BinaryRunner.run(["--version"]).status]
        }
        #expect(statuses == [0, 2, 64, 2, 0])
    }
}

/// A secret param never shows in a run's JSON: not in `apply --json` (which masks from the
/// pipeline it parsed) nor in `runs show --json` (from the stored definition).
@Suite struct SecretParamJSONTests {
    @Test func applyAndShowMaskSecretParams() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("p.yaml").path
        try """
            version: 1
            name: secretive
            params:
              token: {type: string, secret: true}
              region: {type: string, default: eu}
            steps:
              - name: use
                run: test -n "$PARAM_TOKEN"
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let env = ["RUNNER_HOME": dir.appendingPathComponent(".runner").path]
        let apply = BinaryRunner.run(["apply", file, "--json", "-p", "token=hunter2-secret"], environment: env)
        #expect(apply.status == 0, "\(apply.stderr)")
        #expect(apply.stdout.contains("\"token\" : \"***\"") && apply.stdout.contains("\"region\" : \"eu\""), "\(apply.stdout)")
        #expect(!apply.stdout.contains("hunter2") && !apply.stderr.contains("hunter2"))
        let id = try #require(apply.stdout.firstMatch(of: /"id" : "([^"]+)"/)?.1)
        let show = BinaryRunner.run(["runs", "show", String(id), "--json"], environment: env)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("\"token\" : \"***\"") && !show.stdout.contains("hunter2"), "\(show.stdout)")
    }
}
