import Foundation
import RunnerCore
import RunnerTestSupport
import Testing
@testable import RunnerServer

/// The API's handling of requests, called directly (`InProcessServer`: no sockets, an
/// in-memory store): who may call what, unknown routes and methods, health, runs listed,
/// shown and cancelled, the cap on event streams, header fields. The Python suites check the
/// same over HTTP against the real binary.
@Suite struct APIHandlerTests {
    @Test func eachRouteNeedsTheRoleItDeclares() throws {
        let s = try InProcessServer()
        let missing = s.request("GET", "/api/v1/pipelines", as: nil)
        #expect(missing.status == 401 && missing.code == "RUN6006" && missing.header("WWW-Authenticate") == "Bearer")
        let forged = s.request("GET", "/api/v1/pipelines", as: nil, headers: ["Authorization": "Bearer rnr_nope"])
        #expect(forged.status == 401)
        #expect(s.request("GET", "/api/v1/pipelines", as: .viewer).status == 200)
        let launch = s.request("POST", "/api/v1/pipelines/nope/runs", as: .viewer)
        #expect(launch.status == 403 && launch.code == "RUN6007")
        #expect(launch.json?["message"] as? String
                == "token 'test-viewer' is viewer; POST /api/v1/pipelines/nope/runs needs operator")
        #expect(s.request("POST", "/api/v1/pipelines/nope/runs", as: .operator).status == 404, "an operator gets past")
        #expect(s.request("GET", "/api/v1/audit", as: .operator).status == 403)
        #expect(s.request("GET", "/api/v1/audit", as: .admin).status == 200)
        #expect(s.request("GET", "/healthz", as: nil).status == 200, "the health check is open")
        #expect(s.request("HEAD", "/healthz", as: nil).status == 200)
        #expect(s.request("GET", "/metrics", as: nil).status == 401)
    }

    @Test func unknownRoutesAndMethods() throws {
        let s = try InProcessServer()
        let unknown = s.request("GET", "/api/v2/nothing")
        #expect(unknown.status == 404 && unknown.code == "RUN6003")
        #expect(s.request("GET", "/api/v2/nothing", as: nil).status == 401, "without a token, 401 before 404")
        let wrong = s.request("DELETE", "/api/v1/runs/x", as: .operator)
        #expect(wrong.status == 405 && wrong.code == "RUN6004" && wrong.header("Allow") == "GET")
        let body = s.request("POST", "/api/v1/pipelines/hello/runs", as: .operator)
        #expect(body.status != 413)
        let big = s.api.handle(HTTPRequest(method: "POST", path: "/api/v1/pipelines/hello/runs", isBodyTooLarge: true,
                                           headers: ["Authorization": "Bearer \(s.tokens[.operator] ?? "")"]))
        #expect(big.status == 413 && big.code == "RUN6005")
        let text = String(decoding: s.request("GET", "/metrics").body, as: UTF8.self)
        #expect(text.contains(#"runner_http_requests_total{route="unmatched",status="404"} 1"#))
        #expect(text.contains(#"runner_http_requests_total{route="unmatched",status="405"} 1"#))
    }

    @Test func healthFollowsTheStore() throws {
        let s = try InProcessServer()
        let healthy = s.request("GET", "/healthz", as: nil)
        #expect(healthy.status == 200 && healthy.json?["status"] as? String == "ok")
        #expect(healthy.json?["pipelines"] as? Int == 1)
        s.store.failWrites(with: StoreBusy())
        _ = try? s.makeRun("20260101-000000-000001")
        let failing = s.request("GET", "/healthz", as: nil)
        #expect(failing.status == 503 && failing.json?["status"] as? String == "unavailable")
        #expect((failing.json?["store"] as? String)?.hasPrefix("failing: database is locked") == true)
    }

    @Test func runsAreListedPageByPage() throws {
        let s = try InProcessServer()
        let ids = try (1...5).map { try s.makeRun("20260101-00000\($0)-000000", minute: $0) }
        let first = s.request("GET", "/api/v1/runs", query: ["limit": "2"])
        let firstRuns = (first.json?["runs"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(first.status == 200 && firstRuns == [ids[4].rawValue, ids[3].rawValue])
        let cursor = try #require(first.json?["next_cursor"] as? String)
        let second = s.request("GET", "/api/v1/runs", query: ["limit": "2", "cursor": cursor])
        let secondRuns = (second.json?["runs"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(secondRuns == [ids[2].rawValue, ids[1].rawValue])
        let last = s.request("GET", "/api/v1/runs", query: ["limit": "2", "cursor": ids[1].rawValue])
        #expect((last.json?["runs"] as? [Any])?.count == 1 && last.json?["next_cursor"] == nil, "the last page")
        #expect(s.request("GET", "/api/v1/runs", query: ["limit": "0"]).code == "RUN2102")
        #expect(s.request("GET", "/api/v1/runs", query: ["status": "done"]).status == 400)
    }

    @Test func aRunIsShownAndAFinishedOneIsNotCancelled() throws {
        let s = try InProcessServer()
        let id = try s.makeRun("20260101-000000-000001")
        let shown = s.request("GET", "/api/v1/runs/\(id)")
        #expect(shown.status == 200 && shown.json?["id"] as? String == id.rawValue)
        #expect(shown.json?["status"] as? String == "succeeded")
        let missing = s.request("GET", "/api/v1/runs/20991231-000000-000000")
        #expect(missing.status == 404 && missing.code == "RUN_NOT_FOUND")
        let cancel = s.request("POST", "/api/v1/runs/\(id)/cancel", as: .operator)
        #expect(cancel.status == 409 && cancel.code == "RUN4002" && cancel.json?["status"] as? String == "succeeded")
    }

    @Test func eventStreamsPastTheCapAreRefused() throws {
        let s = try InProcessServer()
        let id = try s.makeRun("20260101-000000-000001", status: .queued)
        s.api.eventHub.limits.maxStreams = 1
        let sink = FakeSink()
        try s.api.eventHub.subscribe(id, after: 0, store: s.store) { sink }
        let refused = s.request("GET", "/api/v1/runs/\(id)/events")
        #expect(refused.status == 503 && refused.code == "RUN6015" && refused.header("Retry-After") == "5")
        #expect(s.request("GET", "/api/v1/runs/20991231-000000-000000/events").status == 404,
                "an unknown run is 404 first")
        sink.leave()
        #expect(waitFor { s.api.eventHub.openStreams == 0 }, "a stream whose client left is let go")
        // Without a socket there is nothing to stream to: as before the hub, 500.
        #expect(s.request("GET", "/api/v1/runs/\(id)/events").status == 500)
        #expect(s.api.eventHub.openStreams == 0)
    }

    @Test func answersCarryTheirHeaderFields() throws {
        let s = try InProcessServer()
        let unauthorized = s.request("GET", "/api/v1/runs", as: nil)
        #expect(unauthorized.headers.map(\.name) == ["WWW-Authenticate"])
        let wrong = s.request("PUT", "/healthz", as: .operator)
        #expect(wrong.headers.map(\.name) == ["Allow"] && wrong.header("allow") == "GET")
        s.store.failWrites(with: StoreBusy())
        let busy = APIServer.storeFailure(StoreBusy(), "cannot read runs")
        #expect(busy.status == 503 && busy.headers.map(\.name) == ["Retry-After"])
        let log = s.request("GET", "/api/v1/runs/20991231-000000-000000/steps/x/log")
        #expect(log.headers.isEmpty && log.contentType == "application/json")
    }
}

/// A store failure that may pass by itself, as SQLite's lock held elsewhere.
struct StoreBusy: TransientFailure, CustomStringConvertible {
    var isTransient: Bool { true }
    var description: String { "database is locked" }
}
