import Foundation
import RunnerTestSupport
import Testing
@testable import RunnerCLI

/// `runner apply` launches as `cli:<user>`: the run records it and its steps see it; its path
/// params are checked on disk before the run is recorded.
@Suite struct ApplyActorTests {
    let dir: URL
    let env: [String: String]

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("apply-actor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        env = ["RUNNER_HOME": dir.appendingPathComponent(".runner").path]
    }

    func write(_ name: String, _ text: String) throws -> String {
        let file = dir.appendingPathComponent(name).path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func theRunRecordsTheLocalUserAndStepsSeeIt() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try write("who.yaml", """
            version: 1
            name: who
            progress: {weights: {who: 2}}
            steps:
              - {name: who, run: 'printf %s "$RUNNER_ACTOR" > actor.txt'}
              - {name: after, needs: [who], run: "true"}
            """)
        let apply = BinaryRunner.run(["apply", file, "--json"], environment: env)
        #expect(apply.status == 0, "\(apply.stderr)")
        let actor = LocalAudit.actor
        #expect(actor.hasPrefix("cli:"))
        #expect(apply.stdout.contains("\"actor\" : \"\(actor)\"") && apply.stdout.contains("\"progress\" : 100"),
                "\(apply.stdout)")
        #expect((try? String(contentsOf: dir.appendingPathComponent("actor.txt"), encoding: .utf8)) == actor)
        let id = try #require(apply.stdout.firstMatch(of: /"id" : "([^"]+)"/)?.1)
        let show = BinaryRunner.run(["runs", "show", String(id), "--json"], environment: env)
        #expect(show.stdout.contains("\"actor\" : \"\(actor)\"") && show.stdout.contains("\"progress\" : 100"),
                "\(show.stdout)")
    }

    @Test func pathParamsAreCheckedBeforeTheRunIsRecorded() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try write("paths.yaml", """
            version: 1
            name: paths
            params:
              dir: {type: path, root: data/out, error: INVALID_PATH}
              zip: {type: path, root: data/in, must_exist: true, kind: file}
              mine: {type: path, root: "data/{actor}"}
            steps:
              - {name: use, run: "true"}
            """)
        let escaping = BinaryRunner.run(["apply", file, "-p", "dir=../x"], environment: env)
        #expect(escaping.status == 2 && escaping.stderr.contains("param 'dir': path '../x' leaves its root"),
                "\(escaping.stderr)")
        #expect(escaping.stderr.contains("INVALID_PATH"))
        let missing = BinaryRunner.run(["apply", file, "-p", "zip=x.zip"], environment: env)
        #expect(missing.status == 2 && missing.stderr.contains("param 'zip': path 'x.zip' does not exist"),
                "\(missing.stderr)")
        // `cli:<user>` names the caller's folder of a root; a path still cannot climb out of it.
        let mine = BinaryRunner.run(["apply", file, "-p", "mine=../other"], environment: env)
        #expect(mine.status == 2 && mine.stderr.contains("param 'mine': path '../other' leaves its root"),
                "\(mine.stderr)")
        let listed = BinaryRunner.run(["runs", "list", "--json"], environment: env).stdout
        #expect(((try? JSONSerialization.jsonObject(with: Data(listed.utf8))) as? [Any])?.isEmpty == true,
                "nothing recorded: \(listed)")
        let dry = BinaryRunner.run(["apply", file, "-p", "dir=new", "--dry-run"], environment: env)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("data/out").path),
                "a dry run makes nothing")
        let made = BinaryRunner.run(["apply", file, "-p", "dir=new"], environment: env)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("data/out").path), "the root is made")
    }
}
