import Foundation
import RunnerCore
import RunnerEngine
import RunnerYAML
import RunnerTestSupport
import Testing
@testable import RunnerServer

/// The server's schedule loop, one pass at a time with a chosen `now`.
@Suite struct ScheduleFiringTests: Sendable {
    func server(onConflict: String, timezone: String = "timezone: UTC, ") throws -> (APIServer, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sched-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("pipelines"), withIntermediateDirectories: true)
        try """
        version: 1
        name: nightly
        params:
          mode: {type: enum, values: [manual, scheduled], default: manual}
        concurrency: {on_conflict: \(onConflict)}
        triggers:
          schedule:
            - {cron: "0 3 * * *", \(timezone)params: {mode: scheduled}}
        steps:
          - {name: work, run: "sleep 5"}
        """.write(to: dir.appendingPathComponent("pipelines/nightly.yaml"), atomically: false, encoding: .utf8)
        let service = try RunService.onSQLite(state: StateDirectory(root: dir.appendingPathComponent("home")), environment: ["PATH": "/usr/bin:/bin"])
        let api = APIServer(pipelinesDirectory: dir.appendingPathComponent("pipelines").path, service: service)
        #expect(api.reload().isEmpty)
        return (api, dir)
    }

    func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// Admission waits for the engine on the calling thread (the server calls this from a thread
    /// of its own): never from the cooperative pool.
    @Test func firstSeenThenDueThenNotTwice() async throws {
        try await offPool { try self.firstSeen() }
    }

    @Test func aFiringWhileThePreviousRunIsActiveFollowsOnConflict() async throws {
        try await offPool { try self.whileActive() }
    }

    /// `trigger_detail.timezone` is the name as declared (Foundation calls UTC "GMT"), or
    /// `UTC`, the default, when none is.
    @Test(arguments: [("timezone: UTC, ", "UTC"), ("", "UTC"), ("timezone: Etc/UTC, ", "Etc/UTC"), ("timezone: Asia/Tokyo, ", "Asia/Tokyo")])
    func theTimeZoneIsReportedAsDeclared(_ declared: String, _ reported: String) async throws {
        try await offPool {
            let (api, dir) = try self.server(onConflict: "reject", timezone: declared)
            defer { try? FileManager.default.removeItem(at: dir) }
            _ = api.fireDueSchedules(now: self.date("2026-11-23T10:00:00Z"))
            let fired = api.fireDueSchedules(now: self.date("2026-11-25T10:00:00Z"))
            #expect(fired.count == 1)
            let run = try #require(try api.service.store.load(fired[0]))
            #expect(run.run.triggerDetail["timezone"] == reported)
            _ = try api.service.store.requestCancel(fired[0], at: Date())
        }
    }

    func firstSeen() throws {
        let (api, dir) = try server(onConflict: "reject")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(api.fireDueSchedules(now: date("2026-11-23T10:00:00Z")).isEmpty, "first seen: starts from now")
        #expect(api.fireDueSchedules(now: date("2026-11-24T02:59:00Z")).isEmpty)
        let fired = api.fireDueSchedules(now: date("2026-11-24T03:00:30Z"))
        #expect(fired.count == 1)
        let run = try #require(try api.service.store.load(fired[0]))
        #expect(run.run.trigger == .schedule)
        #expect(run.run.params["mode"] == .string("scheduled"))
        #expect(run.run.triggerDetail["fire_time"] == "2026-11-24T03:00:00Z")
        #expect(api.fireDueSchedules(now: date("2026-11-24T03:00:40Z")).isEmpty, "that firing is done")
        _ = try api.service.store.requestCancel(fired[0], at: Date())
    }

    func whileActive() throws {
        let (api, dir) = try server(onConflict: "reject")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = api.fireDueSchedules(now: date("2026-11-23T10:00:00Z"))
        let first = api.fireDueSchedules(now: date("2026-11-24T03:00:00Z"))
        #expect(first.count == 1)
        // The next night the first run is still active (sleep 5): reject.
        var lines: [String] = []
        let second = api.fireDueSchedules(now: date("2026-11-25T03:00:00Z")) { lines.append($0) }
        #expect(second.isEmpty)
        #expect(lines.contains { $0.contains("not launched") && $0.contains(first[0].rawValue) }, "\(lines)")
        _ = try api.service.store.requestCancel(first[0], at: Date())
    }
}
