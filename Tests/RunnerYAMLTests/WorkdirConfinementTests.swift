import Foundation
import RunnerCore
import Testing
@testable import RunnerYAML

/// A `workdir` is confined by where it leads, not only by how it is written: a symlink in the
/// pipeline's folder that points out of it is refused when the file is loaded (RUN2042).
@Suite struct WorkdirConfinementTests {
    struct Folder {
        let root: URL
        let outside: URL

        init() throws {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("workdir-\(UUID().uuidString)")
            root = base.appendingPathComponent("pipelines")
            outside = base.appendingPathComponent("elsewhere")
            for dir in [root.appendingPathComponent("sub/deeper"), outside] {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            }
            try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("out").path, withDestinationPath: outside.path)
            try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("in").path, withDestinationPath: "sub")
            try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("sub/up").path, withDestinationPath: "../..")
        }

        func load(workdir: String, asDefault: Bool = false) throws -> PipelineLoader.Result {
            let file = root.appendingPathComponent("p.yaml")
            let text = asDefault
                ? "version: 1\nname: p\ndefaults: {workdir: \(workdir)}\nsteps:\n  - {name: a, run: pwd}\n"
                : "version: 1\nname: p\nsteps:\n  - {name: a, run: pwd, workdir: \(workdir)}\n"
            try text.write(to: file, atomically: false, encoding: .utf8)
            return PipelineLoader.load(path: file.path)
        }

        func remove() { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
    }

    @Test(arguments: [("out", false), ("out/new/dir", false), ("sub/up", false), ("sub/up/elsewhere", false), ("out", true)])
    func aSymlinkLeadingOutIsRefused(_ workdir: String, _ asDefault: Bool) throws {
        let folder = try Folder()
        defer { folder.remove() }
        let result = try folder.load(workdir: workdir, asDefault: asDefault)
        #expect(result.pipeline == nil)
        let found = result.diagnostics.filter { $0.code == .workdirOutsidePipeline }
        #expect(found.count == 1, "\(result.diagnostics.map(\.message))")
        #expect(found.first?.message.contains("workdir '\(workdir)'") == true)
        #expect(found.first?.location?.line == (asDefault ? 3 : 4))
    }

    /// Inside by a symlink, or not there yet (an earlier step may make it): accepted.
    @Test(arguments: ["in", "in/deeper", "sub", "not/made/yet", "sub/../in"])
    func insideOrMissingIsAccepted(_ workdir: String) throws {
        let folder = try Folder()
        defer { folder.remove() }
        let result = try folder.load(workdir: workdir)
        #expect(result.pipeline != nil, "\(result.diagnostics.map(\.message))")
    }

    @Test func resolvedPaths() {
        #expect(ResolvedPath.deepestExisting("/") == "/")
        #expect(ResolvedPath.deepestExisting("/no-such-dir-\(UUID().uuidString)/x") != nil)
        #expect(ResolvedPath.isInside("/a/b", "/a") && ResolvedPath.isInside("/a", "/a") && !ResolvedPath.isInside("/ab", "/a"))
        #expect(ResolvedPath.isInside("/anything", "/"))
    }
}
