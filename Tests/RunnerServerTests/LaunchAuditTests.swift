import Foundation
import RunnerCore
import RunnerEngine
import RunnerTestSupport
import Testing
@testable import RunnerServer

/// Launches the server refuses are audited like the ones it accepts: who tried what, and the
/// code of the answer; secrets (and names the pipeline does not declare) are masked.
@Suite struct LaunchAuditTests: Sendable {
    struct Server {
        let api: APIServer
        let dir: URL
        let token: String

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("pipelines"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Paths.fixtures.appendingPathComponent("audit/guarded.yaml"),
                                             to: dir.appendingPathComponent("pipelines/guarded.yaml"))
            let service = try RunService.onSQLite(state: StateDirectory(root: dir.appendingPathComponent("home")), environment: ["PATH": "/usr/bin:/bin"])
            api = APIServer(pipelinesDirectory: dir.appendingPathComponent("pipelines").path, service: service)
            let made = try #require(AccessTokens.make(name: "ci", role: .operator))
            try service.store.createToken(made.record)
            token = made.token
        }

        func launch(_ body: String, headers: [String: String] = [:]) -> HTTPResponse {
            api.handle(HTTPRequest(method: "POST", path: "/api/v1/pipelines/guarded/runs", body: Array(body.utf8),
                                   headers: ["Authorization": "Bearer \(token)", "X-Request-Id": "req-7"].merging(headers) { $1 }))
        }

        func newest() throws -> AuditRecord? { try api.service.store.audit(limit: 1).first }
    }

    @Test func refusedLaunchesAreAudited() async throws {
        try await offPool { try self.refused() }
    }

    func refused() throws {
        let s = try Server()
        defer { try? FileManager.default.removeItem(at: s.dir) }
        #expect(s.api.reload().isEmpty)

        #expect(s.launch(#"{"params": {"target": "nope", "password": "hunter2"}}"#).status == 400)
        var entry = try #require(try s.newest())
        #expect(entry.action == "launch_invalid" && entry.code == "INVALID_TARGET" && entry.actor == "ci", "\(entry)")
        #expect(entry.pipeline == "guarded" && entry.runID == nil && entry.traceID == "req-7")
        #expect(entry.params == ["target": .string("nope"), "password": .string("***")])

        // A misspelt secret is not declared secret: its value is masked all the same.
        #expect(s.launch(#"{"params": {"target": "staging", "passwrd": "hunter3"}}"#).status == 400)
        entry = try #require(try s.newest())
        #expect(entry.code == "RUN2103" && entry.params == ["target": .string("staging"), "passwrd": .string("***")], "\(entry)")

        #expect(s.launch("[1, 2]").status == 400)
        entry = try #require(try s.newest())
        #expect(entry.action == "launch_invalid" && entry.code == "RUN6001" && entry.params.isEmpty)

        let accepted = s.launch(#"{"params": {"target": "staging", "password": "hunter2"}}"#)
        #expect(accepted.status == 202)
        let first = try #require(try s.newest())
        #expect(first.action == "launch" && first.code == nil && first.params["password"] == .string("***"))
        let active = try #require(first.runID)

        #expect(s.launch(#"{"params": {"target": "production", "password": "hunter2"}}"#).status == 409)
        entry = try #require(try s.newest())
        #expect(entry.action == "launch_rejected" && entry.code == "GUARDED_BUSY" && entry.runID == active)
        #expect(entry.params == ["target": .string("production"), "password": .string("***")])

        #expect(s.launch("{}", headers: ["Idempotency-Key": "has space"]).status == 400)
        entry = try #require(try s.newest())
        #expect(entry.action == "launch_invalid" && entry.code == "RUN6010")

        let all = try s.api.service.store.audit(limit: 100)
        #expect(!all.contains { entry in entry.params.values.contains { "\($0)".contains("hunter") } }, "no secret in the audit log")
        _ = try s.api.service.store.requestCancel(active, at: Date())
    }
}
