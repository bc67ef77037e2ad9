import Foundation
import RunnerCore
import RunnerEngine
import RunnerTestSupport
import RunnerYAML
import Testing

/// `path` params checked at launch against a real directory: confined to their root, through
/// symlinks too, existing when asked, the root's `{actor}` and `${VAR}` expanded.
final class PathParamsTests: @unchecked Sendable {
    static let yaml = """
        version: 1
        name: belayer
        params:
          dirPath: {type: path, root: "${STORAGE_ROOT:-storage}/{actor}", error: INVALID_PATH}
          zipFilePath: {type: path, root: "${STORAGE_ROOT:-storage}/{actor}", must_exist: true, kind: file,
                        error: INVALID_PATH}
          folder: {type: path, root: "storage/{actor}", must_exist: true, kind: directory}
          files: {type: list, items: {type: path, root: storage/alice, must_exist: true}}
        steps:
          - {name: work, run: "true"}
        """

    let dir: URL
    let file: String
    let pipeline: ValidatedPipeline
    /// `storage/alice`: `dump1/backup.zip`, and symlinks `out` (to a folder outside), `up`
    /// (to `storage`), `inside` (to `dump1`) and `broken` (to nothing).
    let root: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("paths-\(UUID().uuidString)")
        root = dir.appendingPathComponent("storage/alice")
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("dump1"), withIntermediateDirectories: true)
        try fm.createDirectory(at: dir.appendingPathComponent("outside"), withIntermediateDirectories: true)
        try Data("zip".utf8).write(to: root.appendingPathComponent("dump1/backup.zip"))
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("out").path,
                                  withDestinationPath: dir.appendingPathComponent("outside").path)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("up").path, withDestinationPath: "..")
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("inside").path, withDestinationPath: "dump1")
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("broken").path,
                                  withDestinationPath: dir.appendingPathComponent("outside/nowhere").path)
        file = dir.appendingPathComponent("belayer.yaml").path
        let loaded = PipelineLoader.load(bytes: Array(Self.yaml.utf8), file: file)
        pipeline = try #require(loaded.pipeline, "\(loaded.diagnostics.map(\.message))")
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// The messages of a launch's param checks (the resolver's, then on disk), by `actor`, in
    /// `environment`; [] when it passes.
    func problems(_ params: [String: String], actor: String? = "alice", environment: [String: String] = [:],
                  makesRoots: Bool = true) -> [String] {
        problems(values: params.mapValues { .string($0) }, actor: actor, environment: environment,
                 makesRoots: makesRoots)
    }

    func problems(values: [String: Value], actor: String? = "alice", environment: [String: String] = [:],
                  makesRoots: Bool = true) -> [String] {
        let inputs = values.map { (name: $0.key, input: ParamInput.value($0.value)) }
        let resolution = ParamResolver.resolve(inputs, against: pipeline.pipeline.params)
        guard !resolution.diagnostics.hasErrors else { return resolution.diagnostics.map(\.message) }
        return PathParams.check(pipeline, params: resolution.values, pipelineFile: file, actor: actor,
                                environment: environment, makesRoots: makesRoots).map(\.message)
    }

    @Test func pathsAsWrittenAreRefusedBeforeTheDiskIsRead() {
        #expect(problems(["dirPath": "a/../b"]) == ["param 'dirPath': path 'a/../b' leaves its root"])
        #expect(problems(["dirPath": "/etc"]) == ["param 'dirPath': path '/etc' is absolute"])
        #expect(problems(["dirPath": "a//b"]) == ["param 'dirPath': path 'a//b' has an empty or '.' segment"])
        #expect(problems(["dirPath": "./a"]) == ["param 'dirPath': path './a' has an empty or '.' segment"])
        #expect(problems(["dirPath": "a/"]) == ["param 'dirPath': path 'a/' has an empty or '.' segment"])
        #expect(problems(["dirPath": ""]) == ["param 'dirPath': a path cannot be empty"])
        #expect(problems(["dirPath": "..", "folder": "dump1"]) == ["param 'dirPath': path '..' leaves its root"])
        #expect(problems(["dirPath": "a\u{0}b"]).first?.contains("NUL") == true)
    }

    @Test func symlinksThatLeaveTheRootAreRefused() {
        #expect(problems(["dirPath": "out"]) == ["param 'dirPath': path 'out' leaves its root"])
        #expect(problems(["dirPath": "out/new/deeper"]) == ["param 'dirPath': path 'out/new/deeper' leaves its root"])
        #expect(problems(["dirPath": "up/bob"]) == ["param 'dirPath': path 'up/bob' leaves its root"])
        #expect(problems(["dirPath": "broken/x"])
                == ["param 'dirPath': path 'broken/x' leads through a broken symbolic link"])
        #expect(problems(["dirPath": "inside/new"]).isEmpty, "a symlink that stays inside")
        #expect(problems(["dirPath": "new/folder"]).isEmpty, "a path that does not exist yet")
    }

    @Test func mustExistChecksTheKind() {
        #expect(problems(["zipFilePath": "dump1/backup.zip", "folder": "dump1"]).isEmpty)
        #expect(problems(["zipFilePath": "inside/backup.zip"]).isEmpty, "through a symlink inside")
        #expect(problems(["zipFilePath": "x.zip"]) == ["param 'zipFilePath': path 'x.zip' does not exist"])
        #expect(problems(["zipFilePath": "dump1"]) == ["param 'zipFilePath': path 'dump1' is not a file"])
        #expect(problems(["folder": "dump1/backup.zip"])
                == ["param 'folder': path 'dump1/backup.zip' is not a directory"])
        #expect(problems(values: ["files": .list([.string("dump1/backup.zip"), .string("gone.zip")])])
                == ["param 'files': item 2: path 'gone.zip' does not exist"])
    }

    /// The diagnostic has the param's code and never says where the root is on this machine.
    @Test func theDiagnosticHasTheParamsCodeAndHidesTheRoot() throws {
        let inputs: [(name: String, input: ParamInput)] = [("zipFilePath", .text("out"))]
        guard case .failure(let found) = LaunchCheck.check(inputs, for: pipeline, pipelineFile: file, actor: "alice",
                                                           git: FakeRefResolver(refs: [:])) else {
            Issue.record("not refused")
            return
        }
        let d = try #require(found.diagnostics.first)
        #expect(d.code == .invalidParam && d.displayCode == "INVALID_PATH" && d.subject == "params.zipFilePath")
        #expect(d.hint != nil && !d.message.contains(dir.path) && !(d.hint ?? "").contains(dir.path))
    }

    @Test func theActorMustBeOneSafeFolderName() {
        for hostile in ["..", ".", "../bob", "a/b", "", "al ice", "é"] {
            #expect(problems(["dirPath": "x"], actor: hostile)
                    == ["param 'dirPath': its root names {actor}, and the actor '\(hostile)' cannot name a folder"],
                    "\(hostile.debugDescription)")
        }
        #expect(problems(["dirPath": "x"], actor: nil)
                == ["param 'dirPath': its root names {actor}, and this launch has no actor"])
        #expect(problems(["dirPath": "x"], actor: "bob.smith@example-1_a").isEmpty)
    }

    /// `${STORAGE_ROOT:-storage}`: the variable when set, else the default; a missing root is
    /// made, unless the paths must exist or the check only plans.
    @Test func theRootIsExpandedAndMade() throws {
        let other = dir.appendingPathComponent("elsewhere")
        #expect(problems(["dirPath": "x"], actor: "carol", environment: ["STORAGE_ROOT": other.path], makesRoots: false)
                .isEmpty)
        #expect(!FileManager.default.fileExists(atPath: other.appendingPathComponent("carol").path),
                "a plan makes nothing")
        #expect(problems(["zipFilePath": "a.zip"], actor: "carol", environment: ["STORAGE_ROOT": other.path])
                == ["param 'zipFilePath': path 'a.zip' does not exist"])
        #expect(!FileManager.default.fileExists(atPath: other.path), "not made when the path must exist")
        #expect(problems(["dirPath": "x"], actor: "carol", environment: ["STORAGE_ROOT": other.path]).isEmpty)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: other.appendingPathComponent("carol").path,
                                               isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(problems(["dirPath": "x"], actor: "dave", environment: ["STORAGE_ROOT": ""]).isEmpty)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("storage/dave").path),
                "an empty variable takes the default, relative to the pipeline file")
    }

    /// Through the one launch path: refused as invalid, nothing recorded.
    @Test func aRefusedPathRecordsNothing() throws {
        let store = InMemoryRunStore()
        let service = RunService(state: StateDirectory(root: dir.appendingPathComponent(".runner")), environment: [:],
                                 store: store, git: FakeRefResolver(refs: [:]))
        var request = LaunchRequest(pipeline: LoadedPipeline(pipeline: pipeline, definition: Self.yaml, file: file),
                                    params: LaunchRequest.given(["dirPath": .string("up/bob")]), trigger: .api,
                                    parallelism: 1)
        request.audit = AuditContext(actor: "alice")
        guard case .invalid(let found) = try service.launch(request) else {
            Issue.record("not refused")
            return
        }
        #expect(found.map(\.displayCode) == ["INVALID_PATH"])
        #expect(try store.runs(RunQuery()).isEmpty)
        request.params = LaunchRequest.given(["dirPath": .string("dump2")])
        guard case .accepted(let run) = try service.launch(request) else {
            Issue.record("not accepted")
            return
        }
        #expect(try store.load(run.id)?.run.params["dirPath"] == .string("dump2"), "stored as given")
    }
}
