import Foundation
import Testing

/// `runner apply` opens the run state on another thread while it reads and checks the
/// pipeline, where the state directory exists already. What that may and may not leave behind.
@Suite struct StateOpeningTests {
    let dir: URL
    let valid: String
    let invalid: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("opening-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        valid = dir.appendingPathComponent("ok.yaml").path
        invalid = dir.appendingPathComponent("bad.yaml").path
        try "version: 1\nname: ok\nsteps:\n  - name: a\n    run: \"true\"\n".write(toFile: valid, atomically: true, encoding: .utf8)
        try "version: 1\nname: bad\nsteps:\n  - name: a\n    run: \"true\"\n    needs: [nobody]\n".write(toFile: invalid, atomically: true, encoding: .utf8)
    }

    func home(_ name: String, create: Bool) throws -> String {
        let path = dir.appendingPathComponent(name).path
        if create { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        return path
    }

    @Test func anInvalidPipelineLeavesNoStateDirectoryWhereThereWasNone() throws {
        let out = BinaryRunner.run(["apply", invalid], directory: dir)
        #expect(out.status == 2, "\(out.stderr)")
        #expect(out.stderr.contains("nobody"), "\(out.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".runner").path))
    }

    @Test func aDryRunRecordsNothingInAnExistingStateDirectory() throws {
        let home = try home("dry", create: true)
        let out = BinaryRunner.run(["apply", valid, "--dry-run"], environment: ["RUNNER_HOME": home])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: home).isEmpty)
    }

    /// The opening started before the pipeline was found invalid: it is finished, not cut off
    /// by the exit, so the database it made is complete and usable.
    @Test func anInvalidPipelineInAnExistingStateDirectoryLeavesAUsableDatabase() throws {
        let home = try home("invalid", create: true)
        let out = BinaryRunner.run(["apply", invalid], environment: ["RUNNER_HOME": home])
        #expect(out.status == 2, "\(out.stderr)")
        #expect(FileManager.default.fileExists(atPath: home + "/state.db"), "the opening ran before the pipeline was found invalid")
        let list = BinaryRunner.run(["runs", "list", "--json"], environment: ["RUNNER_HOME": home])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.filter { !$0.isWhitespace } == "[]", "\(list.stdout)")
        let run = BinaryRunner.run(["apply", valid, "--json"], environment: ["RUNNER_HOME": home])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\"succeeded\""), "\(run.stdout)")
    }

    @Test func aRunInANewAndInAnExistingStateDirectoryIsRecorded() throws {
        for (name, create) in [("new", false), ("existing", true)] {
            let home = try home(name, create: create)
            let out = BinaryRunner.run(["apply", valid, "--json"], environment: ["RUNNER_HOME": home])
            #expect(out.status == 0, "\(name): \(out.stderr)")
            let list = BinaryRunner.run(["runs", "list"], environment: ["RUNNER_HOME": home])
            #expect(list.stdout.contains("ok") && list.stdout.contains("succeeded"), "\(name): \(list.stdout)")
        }
    }

    /// A state that cannot be opened is reported when it is needed, as before: after the
    /// pipeline was checked (an invalid one is reported as such, not as a state error).
    @Test func aStateThatCannotBeOpenedIsReportedOnlyForAValidPipeline() throws {
        let home = try home("broken", create: true)
        try FileManager.default.createDirectory(atPath: home + "/state.db", withIntermediateDirectories: true)
        let bad = BinaryRunner.run(["apply", invalid], environment: ["RUNNER_HOME": home])
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(!bad.stderr.contains("cannot open the run state"), "\(bad.stderr)")
        let good = BinaryRunner.run(["apply", valid], environment: ["RUNNER_HOME": home])
        #expect(good.status != 0 && good.stderr.contains("cannot open the run state"), "\(good.status) \(good.stderr)")
        #expect(!good.crashed)
    }
}
