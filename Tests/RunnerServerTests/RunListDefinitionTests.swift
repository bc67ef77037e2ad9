import Foundation
import RunnerCore
import RunnerEngine
import RunnerStore
import RunnerTestSupport
import Testing
@testable import RunnerServer

/// `GET /api/v1/runs` reads no definition: a list of 50 runs of a large pipeline would
/// otherwise read megabytes it never shows. Over SQLite, whose definitions are rows of their
/// own: with that table gone, runs can no longer be loaded whole, and are still listed.
@Suite struct RunListDefinitionTests {
    @Test func listingRunsReadsNoDefinition() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("list-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try SQLiteRunStore(path: dir.appendingPathComponent("state.db").path)
        let service = RunService(state: StateDirectory(root: dir), environment: [:], store: store, git: FakeRefResolver(refs: [:]))
        let api = APIServer(pipelinesDirectory: dir.path, service: service)
        let token = try #require(AccessTokens.make(name: "reader", role: .viewer))
        try store.createToken(token.record)
        let definition = "version: 1\nname: big\n# " + String(repeating: "x", count: 1 << 20) + "\nsteps: []\n"
        let ids = (1...3).map { RunID("20260101-00000\($0)-000000") }
        for (n, id) in ids.enumerated() {
            let at = Date(timeIntervalSince1970: 1_767_225_600 + Double(n))
            let run = RunRecord(id: id, pipeline: "big", pipelineFile: "big.yaml", definition: definition,
                                trigger: .api, params: [:], parallelism: 1, createdAt: at)
            try store.createRun(run, steps: [])
        }
        #expect(try store.load(ids[0])?.run.definition.utf8.count == definition.utf8.count)

        try store.database.execute("DROP TABLE definitions")
        #expect(throws: (any Error).self, "a read of a definition fails now") { try store.load(ids[0]) }
        let listed = api.handle(HTTPRequest(method: "GET", path: "/api/v1/runs",
                                            headers: ["Authorization": "Bearer \(token.token)"]))
        #expect(listed.status == 200)
        let listedIDs = (listed.json?["runs"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(listedIDs == ids.reversed().map(\.rawValue))
        #expect(listed.body.count < 10_000, "\(listed.body.count) bytes")
    }
}
