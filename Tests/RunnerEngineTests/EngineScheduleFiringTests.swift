import Foundation
import RunnerCore
import RunnerEngine
import RunnerTestSupport
import RunnerYAML
import Testing

/// `ScheduleFiring.fireDue` at chosen instants, on an in-memory store: first seen, due, missed
/// firings run once, and the compare-and-set that lets one of several firers fire.
@Suite struct EngineScheduleFiringTests {
    static let text = """
    version: 1
    name: nightly
    params:
      mode: {type: enum, values: [manual, scheduled], default: manual}
    triggers:
      schedule:
        - {cron: "0 3 * * *", timezone: UTC, params: {mode: scheduled}}
    steps:
      - {name: work, run: "true"}
    """

    func nightly(_ h: LaunchHarness) throws -> LoadedPipeline {
        let file = h.dir.appendingPathComponent("nightly.yaml").path
        let pipeline = try #require(PipelineLoader.load(bytes: Array(Self.text.utf8), file: file).pipeline)
        return LoadedPipeline(pipeline: pipeline, definition: Self.text, file: file)
    }

    func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text) ?? .distantPast }

    @Test func aScheduleFirstSeenStartsFromNowThenFiresWhenDue() throws {
        let h = try LaunchHarness()
        let firing = ScheduleFiring(service: h.service), pipelines = [try nightly(h)]
        #expect(firing.fireDue(pipelines, now: date("2026-11-23T10:00:00Z")).isEmpty)
        #expect(firing.fireDue(pipelines, now: date("2026-11-24T02:59:00Z")).isEmpty)
        let fired = firing.fireDue(pipelines, now: date("2026-11-24T03:00:30Z"))
        guard fired.count == 1, case .launched(.accepted(let run)) = fired[0].outcome else {
            Issue.record("not fired: \(fired)")
            return
        }
        #expect(fired[0].fireTime == date("2026-11-24T03:00:00Z") && fired[0].missed == 0)
        #expect(fired[0].cron == "0 3 * * *")
        let stored = try #require(try h.store.load(run.id))
        #expect(stored.run.trigger == .schedule && stored.run.params["mode"] == .string("scheduled"))
        #expect(stored.run.triggerDetail == ["schedule": "0 3 * * *", "timezone": "UTC",
                                             "fire_time": "2026-11-24T03:00:00Z", "missed": "0"])
        let entry = try #require(try h.newestAudit())
        #expect(entry.action == "launch" && entry.actor == "schedule" && entry.runID == run.id)
        #expect(firing.fireDue(pipelines, now: date("2026-11-24T03:00:40Z")).isEmpty, "that firing is done")
    }

    @Test func firingsMissedWhileNoServerRanAreRunOnce() throws {
        let h = try LaunchHarness()
        let firing = ScheduleFiring(service: h.service), pipelines = [try nightly(h)]
        _ = firing.fireDue(pipelines, now: date("2026-11-23T10:00:00Z"))
        let fired = firing.fireDue(pipelines, now: date("2026-11-27T03:00:05Z"))
        #expect(fired.count == 1 && fired.first?.missed == 3 && fired.first?.fireTime == date("2026-11-27T03:00:00Z"))
        #expect(try h.runs().count == 1)
    }

    /// Several servers on one store, each deciding the same firing is due: one run.
    @Test func ofSeveralFirersOneFires() throws {
        let h = try LaunchHarness()
        let pipelines = [try nightly(h)]
        _ = ScheduleFiring(service: h.service).fireDue(pipelines, now: date("2026-11-23T10:00:00Z"))
        let firers = (0..<8).map { _ in
            ScheduleFiring(service: RunService(state: h.service.state, environment: [:], store: h.store, git: FakeRefResolver(refs: [:])))
        }
        let results = Collected<ScheduleFiring.Firing>()
        DispatchQueue.concurrentPerform(iterations: firers.count) { n in
            for fired in firers[n].fireDue(pipelines, now: date("2026-11-24T03:00:30Z")) { results.add(fired) }
        }
        let launched = results.values.filter { if case .launched = $0.outcome { true } else { false } }
        #expect(launched.count == 1 && results.values.count >= 1)
        #expect(results.values.allSatisfy { fired in
            if case .launched(.accepted) = fired.outcome { return true }
            if case .firedElsewhere = fired.outcome { return true }
            return false
        })
        #expect(try h.runs().count == 1)
    }
}

