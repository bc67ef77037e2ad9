import Foundation
import RunnerCore
import Testing
@testable import RunnerEngine

/// The workdir is checked again when the attempt starts: what the folder holds then is what
/// counts (an earlier step, or a run's workspace checkout, may differ from what `validate` saw).
@Suite struct WorkdirLaunchTests {
    /// `check` given the fixture of `yaml` and its finished run; the fixture's folder is removed
    /// after.
    static func run(_ yaml: String, check: (ExecutorFixture, StoredRun) throws -> Void) async throws {
        let f = try ExecutorFixture(yaml)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        try check(f, try await f.run())
    }

    @Test func aMissingWorkdirIsNamed() async throws {
        try await Self.run("""
        version: 1
        name: missing
        steps:
          - {name: build, run: echo hi, workdir: build/out}
        """) { f, result in
            #expect(result.run.status == .failed)
            let message = result.step("build")?.errorMessage ?? ""
            #expect(message.contains("workdir 'build/out' does not exist"), "\(message)")
            #expect(message.contains(f.dir.appendingPathComponent("build/out").path), "\(message)")
            #expect(!message.contains("/bin/sh"), "\(message)")
        }
    }

    @Test func aWorkdirThatIsAFileIsNamed() async throws {
        try await Self.run("""
        version: 1
        name: file
        steps:
          - {name: make, run: "echo x > notes"}
          - {name: build, run: echo hi, workdir: notes, needs: [make]}
        """) { _, result in
            #expect(result.step("build")?.errorMessage?.contains("workdir 'notes' is not a directory") == true,
                    "\(result.step("build")?.errorMessage ?? "")")
        }
    }

    /// A symlink an earlier step makes (validate saw nothing there) that leads out of the
    /// folder: the step is refused, and nothing runs out there.
    @Test func aSymlinkMadeAfterValidationCannotLeadOut() async throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        try await Self.run("""
        version: 1
        name: escape
        steps:
          - {name: link, run: "ln -s '\(outside.path)' out"}
          - {name: write, run: "touch escaped", workdir: out, needs: [link]}
        """) { _, result in
            #expect(result.step("write")?.status == .failed)
            let message = result.step("write")?.errorMessage ?? ""
            let leads = "workdir 'out' leads, through a symlink, to \(outside.resolvingSymlinksInPath().path)"
            #expect(message.contains(leads), "\(message)")
            #expect(message.contains("RUN2042"))
            #expect(!FileManager.default.fileExists(atPath: outside.appendingPathComponent("escaped").path))
        }
    }

    /// A symlink that stays inside is followed; the step starts in the directory it leads to.
    @Test func aSymlinkInsideIsFollowed() async throws {
        try await Self.run("""
        version: 1
        name: inside
        steps:
          - {name: link, run: "mkdir -p releases/v3 && ln -s releases/v3 current"}
          - {name: show, run: "pwd -P > seen", workdir: current, needs: [link]}
        """) { f, result in
            #expect(result.run.status == .succeeded,
                    "\(result.steps.map { ($0.name.rawValue, $0.errorMessage ?? "") })")
            let seen = try String(contentsOf: f.dir.appendingPathComponent("releases/v3/seen"), encoding: .utf8)
            let target = f.dir.appendingPathComponent("releases/v3").resolvingSymlinksInPath().path
            #expect(seen.trimmingCharacters(in: .newlines) == target)
        }
    }
}
