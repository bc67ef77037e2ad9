import Foundation
import RunnerTestSupport
import Testing

/// gitref params through the built binary, on a repository made for the test: resolved when
/// the run is created (plan shows the SHA; a bad ref exits 2 with the param's code), recorded
/// as ref + SHA, given to steps, and a workspace checked out at exactly that commit.
final class RefRepository {
    let dir: URL
    let repository: TemporaryGitRepository
    var repo: String { repository.path }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("gitref-\(UUID().uuidString)")
        repository = try TemporaryGitRepository(at: dir.appendingPathComponent("repo"))
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    static let environment = TemporaryGitRepository.environment

    @discardableResult
    func git(_ arguments: String...) throws -> String { try TemporaryGitRepository.git(arguments, in: repository.root) }

    /// Commits `content` as `file`; returns the commit's SHA.
    func commit(_ content: String) throws -> String { try repository.commit(["file": content], message: content) }

    /// `p.yaml`: `steps` (YAML list items) run in a workspace checked out at the gitref param
    /// `targetRef`, a ref of `repo`.
    func workspacePipeline(steps: String) throws -> String {
        try write("p.yaml", """
        version: 1
        name: ws
        params:
          targetRef: {type: gitref, required: true, repo: repo}
        workspace: {from: params.targetRef}
        steps:
        \(steps)
        """)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }
}

@Suite struct GitRefCLITests {
    @Test func planShowsTheCommitAndABadRefExitsWithTheParamsCode() throws {
        let r = try RefRepository()
        let first = try r.commit("one\n")
        let second = try r.commit("two\n")
        let file = try r.write("p.yaml", """
        version: 1
        name: refs
        params:
          targetRef: {type: gitref, required: true, repo: repo, error: INVALID_TARGET_REF}
        steps:
          - {name: a, run: "true"}
        """)
        let plan = BinaryRunner.run(["plan", file, "-p", "targetRef=main"])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("\"main\" → \(second)"), "\(plan.stdout)")
        let json = BinaryRunner.run(["plan", file, "-p", "targetRef=main~1", "--json"])
        #expect(json.stdout.contains("\"sha\" : \"\(first)\"") || json.stdout.contains("\"sha\":\"\(first)\""), "\(json.stdout)")

        for bad in ["nope", "main..x", "-x", String(repeating: "a", count: 40)] {
            let out = BinaryRunner.run(["plan", file, "-p", "targetRef=\(bad)"])
            #expect(out.status == 2, "\(bad): \(out.stderr)")
            #expect(out.stderr.contains("error[INVALID_TARGET_REF]"), "\(bad): \(out.stderr)")
        }
        let missing = BinaryRunner.run(["plan", file, "-p", "targetRef=nope"])
        #expect(missing.stderr.contains("'nope' in \(r.repo)"), "names the ref and the repository: \(missing.stderr)")
        // apply refuses too, before recording anything.
        let home = r.dir.appendingPathComponent("home").path
        let apply = BinaryRunner.run(["apply", file, "-p", "targetRef=nope"], environment: ["RUNNER_HOME": home])
        #expect(apply.status == 2)
        let list = BinaryRunner.run(["runs", "list", "--json"], environment: ["RUNNER_HOME": home])
        #expect(list.stdout.filter { !$0.isWhitespace } == "[]", "no run recorded: \(list.stdout)")
    }

    @Test func aRunRecordsRefAndCommitAndItsStepsWorkInACheckoutOfThatCommit() throws {
        let r = try RefRepository()
        let first = try r.commit("one\n")
        // The first step moves main on; the second must still see the commit the run started from.
        let file = try r.workspacePipeline(steps: """
          - name: move
            run: |
              echo two > "$RUNNER_PIPELINE_DIR/repo/file"
              git -C "$RUNNER_PIPELINE_DIR/repo" commit -q -am two
          - name: read
            needs: [move]
            run: |
              echo "content=$(cat file)" >> "$RUNNER_OUTPUT"
              echo "sha=$PARAM_TARGET_REF_SHA" >> "$RUNNER_OUTPUT"
              echo "ref=$PARAM_TARGET_REF" >> "$RUNNER_OUTPUT"
              echo "pwd=$PWD" >> "$RUNNER_OUTPUT"
              echo "workspace=$RUNNER_WORKSPACE" >> "$RUNNER_OUTPUT"
              test ! -e .git && echo "git=none" >> "$RUNNER_OUTPUT"
            outputs: [content, sha, ref, pwd, workspace, git]
        """)
        let home = r.dir.appendingPathComponent("home").path
        var env = RefRepository.environment
        env["HOME"] = r.dir.path
        env["RUNNER_HOME"] = home
        let apply = BinaryRunner.run(["apply", file, "-p", "targetRef=main", "--json"], environment: env)
        #expect(apply.status == 0, "\(apply.stderr)")
        struct Run: Decodable {
            struct Ref: Decodable { var ref: String; var sha: String }
            struct Step: Decodable { var name: String; var outputs: [String: String] }
            var id: String
            var refs: [String: Ref]?
            var steps: [Step]
        }
        let run = try JSONDecoder().decode(Run.self, from: Data(apply.stdout.utf8))
        #expect(run.refs?["targetRef"]?.ref == "main")
        #expect(run.refs?["targetRef"]?.sha == first)
        let outputs = run.steps.first { $0.name == "read" }?.outputs ?? [:]
        let workspace = URL(fileURLWithPath: home).appendingPathComponent("workspaces/\(run.id)").standardizedFileURL.path
        #expect(outputs["content"] == "one", "the checkout is the commit the run was created at, not where main moved")
        #expect(outputs["sha"] == first)
        #expect(outputs["ref"] == "main")
        #expect(outputs["pwd"] == workspace)
        #expect(outputs["workspace"] == workspace)
        #expect(outputs["git"] == "none")
        #expect(try r.git("rev-parse", "main") != first, "main did move during the run")
        // `runs show` names both; the workspace stays for inspection until gc.
        let show = BinaryRunner.run(["runs", "show", run.id], environment: env)
        #expect(show.stdout.contains("targetRef: \"main\" → commit \(first)") || show.stdout.contains("targetRef: main → commit \(first)"),
                "\(show.stdout)")
        #expect(FileManager.default.fileExists(atPath: workspace + "/file"))

        // gc: within the retention (3d) nothing goes; past it (--older-than 0s) the run, its
        // logs and its workspace go.
        let keep = BinaryRunner.run(["gc"], environment: env)
        #expect(keep.stdout.contains("0 runs removed"), "\(keep.stdout)")
        #expect(FileManager.default.fileExists(atPath: workspace + "/file"))
        let dry = BinaryRunner.run(["gc", "--older-than", "0s", "--dry-run"], environment: env)
        #expect(dry.stdout.contains("would remove run \(run.id)"), "\(dry.stdout)")
        #expect(FileManager.default.fileExists(atPath: workspace + "/file"))
        let gc = BinaryRunner.run(["gc", "--older-than", "0s"], environment: env)
        #expect(gc.status == 0 && gc.stdout.contains("removed run \(run.id)"), "\(gc.stdout) \(gc.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace))
        #expect(!FileManager.default.fileExists(atPath: home + "/logs/\(run.id)"))
        #expect(BinaryRunner.run(["runs", "show", run.id], environment: env).status == 1, "the run's record is gone")
    }

    @Test func aWorkspaceThatCannotBeMadeFailsTheRunBeforeAnyStep() throws {
        let r = try RefRepository()
        _ = try r.commit("one\n")
        let file = try r.workspacePipeline(steps: """
          - {name: a, run: "echo ran > \\"$RUNNER_PIPELINE_DIR/ran\\""}
        """)
        let home = r.dir.appendingPathComponent("home").path
        // The workspaces folder is a file: the checkout cannot be written.
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try "".write(toFile: home + "/workspaces", atomically: false, encoding: .utf8)
        let apply = BinaryRunner.run(["apply", file, "-p", "targetRef=main", "--json"], environment: ["RUNNER_HOME": home])
        #expect(apply.status == 1, "\(apply.stderr)")
        #expect(apply.stdout.contains("WORKSPACE_UNAVAILABLE"), "\(apply.stdout)")
        #expect(!FileManager.default.fileExists(atPath: r.dir.appendingPathComponent("ran").path), "no step ran")
    }
}
