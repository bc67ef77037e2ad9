import Foundation
import Testing
import RunnerCore
import RunnerStore
import RunnerTestSupport

/// What every run store must do, written once against the role protocols and run for each
/// backend in `StoreBackend.all` (River's `riverdrivertest` is the model). Records and changes
/// here; leases, cancel flags and groups in `+Leases`, lists and gc in `+Queries`, idempotency
/// keys, tokens, audit, schedules and metrics in `+Access`.
@Suite final class RunStoreConformanceTests: @unchecked Sendable {
    static let t0 = Date(timeIntervalSince1970: 2_000)
    /// The stores this test made (an instance per test): what they left on disk goes at its end.
    private var made: [StoreUnderTest] = []

    /// A new, empty store of `backend`.
    func make(_ backend: StoreBackend) throws -> StoreUnderTest {
        let store = try backend.make()
        made.append(store)
        return store
    }

    /// A new store of `backend` holding `sampleRun()` and its `sampleSteps`, queued.
    func storeWithARun(_ backend: StoreBackend) throws -> (any RunStateStore, RunID) {
        let store = try make(backend).store
        try store.createRun(sampleRun(), steps: sampleSteps)
        return (store, sampleRun().id)
    }

    deinit {
        for store in made { store.remove() }
    }

    @Test(arguments: StoreBackend.all)
    func createAndLoadARun(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        try store.createRun(sampleRun(), steps: sampleSteps)
        let loaded = try #require(try store.load(RunID("20261123-000000-000001")))
        #expect(loaded.run.status == .queued && loaded.run.epoch == 0 && loaded.run.owner == nil)
        #expect(loaded.run.params["n"] == .int(3) && loaded.run.definition == "version: 1")
        #expect(loaded.steps.map(\.name.rawValue) == ["build", "promote[a]"])
        #expect(loaded.steps[1].item == "a" && loaded.steps[1].section == "main")
        #expect(try store.events(of: loaded.run.id,
                                 after: 0).map { "\($0.id) \($0.kind) \($0.status ?? "") \($0.message ?? "")" }
                == ["1 run queued created"])
        #expect(try store.load(RunID("20261123-000000-000009")) == nil)
    }

    @Test(arguments: StoreBackend.all)
    func refsAndTriggerDetailRoundTrip(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        var run = sampleRun()
        run.trigger = .hook
        run.refs = ["targetRef": RecordedRef(sha: String(repeating: "a", count: 40), repository: "/srv/site.git")]
        run.triggerDetail = ["event": "post-receive", "ref": "refs/heads/main", "pusher": "alice"]
        try store.createRun(run, steps: sampleSteps)
        let loaded = try #require(try store.load(run.id))
        #expect(loaded.run.refs == run.refs)
        #expect(loaded.run.triggerDetail == run.triggerDetail)
        try store.createRun(sampleRun("20261123-000000-000002"), steps: [])
        #expect(try store.load(RunID("20261123-000000-000002"))?.run.refs.isEmpty == true)
    }

    @Test(arguments: StoreBackend.all)
    func secretParamNamesAreStoredWithTheRun(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        var run = sampleRun()
        run.secretParams = ["token", "apiKey"]
        try store.createRun(run, steps: [])
        var unknown = sampleRun("20261123-000000-000002")
        unknown.secretParams = nil
        try store.createRun(unknown, steps: [])
        #expect(try store.load(run.id)?.run.secretParams == ["token", "apiKey"])
        #expect(try store.runs(RunQuery()).map(\.secretParams) == [nil, ["token", "apiKey"]], "nil: not known")
    }

    /// The actor who launched a run is stored with it; a run without one reads as nil.
    @Test(arguments: StoreBackend.all)
    func actorRoundTrips(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        var run = sampleRun()
        run.actor = "ops-bot"
        try store.createRun(run, steps: [])
        try store.createRun(sampleRun("20261123-000000-000002"), steps: [])
        #expect(try store.load(run.id)?.run.actor == "ops-bot")
        #expect(try store.load(RunID("20261123-000000-000002"))?.run.actor == nil, "nil stays nil")
        #expect(try store.runs(RunQuery()).map(\.actor) == [nil, "ops-bot"])
        #expect(try store.findRun(idOrPrefix: run.id.rawValue)?.actor == "ops-bot")
    }

    /// Steps reused by a retry keep their message, finish time and outputs.
    @Test(arguments: StoreBackend.all)
    func reusedStepsKeepTheirOutputs(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        var reused = sampleSteps
        reused[0].status = .succeeded
        reused[0].outputs = ["release": "r1"]
        reused[0].errorMessage = "reused from run r0"
        reused[0].finishedAt = Self.t0
        try store.createRun(sampleRun(), steps: reused)
        let build = try #require(try store.load(sampleRun().id)?.steps.first)
        #expect(build.status == .succeeded && build.outputs == ["release": "r1"])
        #expect(build.errorMessage == "reused from run r0" && build.finishedAt == Self.t0)
    }

    @Test(arguments: StoreBackend.all)
    func transitionsAttemptsAndOutputsAreRecorded(_ backend: StoreBackend) throws {
        let (store, id) = try storeWithARun(backend)
        let t = Self.t0
        var attempt = AttemptRecord(step: "build", serial: 1, attempt: 1, startedAt: t)
        attempt.logPath = "logs/build.1.log"
        try store.apply([.run(.running, at: t), .step("build", .running, at: t), .attemptStarted(attempt),
                         .attemptProcess("build", serial: 1, pid: 4242)], to: id)
        try store.apply([
            .attemptFinished("build", serial: 1, end: AttemptEnd(.exited(code: 0)), errorCode: nil, message: nil,
                             counted: true, at: t + 5),
            .outputs("build", ["release": "r1"]),
            .step("build", .succeeded, at: t + 5),
        ], to: id)
        let loaded = try #require(try store.load(id))
        #expect(loaded.run.status == .running && loaded.run.startedAt == t)
        #expect(loaded.steps[0].status == .succeeded && loaded.steps[0].outputs == ["release": "r1"])
        let build = loaded.steps[0]
        #expect(build.progress == 100 && build.startedAt == t && build.finishedAt == t + 5)
        #expect(loaded.attempts.count == 1)
        let recorded = loaded.attempts[0]
        #expect(recorded.pid == 4242 && recorded.exitCode == 0 && recorded.finishedAt == t + 5)
        #expect(recorded.logPath == "logs/build.1.log")
        let events = try store.events(of: id, after: 0)
        #expect(events.map(\.status) == ["queued", "running", "running", "succeeded"])
        #expect(events.map(\.id) == [1, 2, 3, 4])
        #expect(try store.events(of: id, after: 2).map(\.id) == [3, 4])
    }

    /// A batch where attempts start and end and steps go running and then end (SQLite stores
    /// it with fewer statements) stores what applying the changes one by one stores.
    @Test(arguments: StoreBackend.all)
    func aBatchStoresWhatOneByOneStores(_ backend: StoreBackend) throws {
        let changes = Self.quickSteps
        let together = try make(backend), oneByOne = try make(backend)
        for store in [together.store, oneByOne.store] { try store.createRun(sampleRun(), steps: sampleSteps) }
        let id = RunID("20261123-000000-000001")
        try together.store.apply(changes, to: id)
        for change in changes { try oneByOne.store.apply([change], to: id) }
        let a = try #require(try together.store.load(id)), b = try #require(try oneByOne.store.load(id))
        #expect(Self.describe(a) == Self.describe(b))
        let events = { (store: any RunStateStore) in
            try store.events(of: id,
                             after: 0).map { "\($0.id) \($0.kind) \($0.step ?? "-") \($0.status ?? "-") \($0.at)" }
        }
        #expect(try events(together.store) == events(oneByOne.store))
        #expect(a.steps.first { $0.name == "build" }?.status == .failed)
        #expect(a.attempts.first { $0.step == "build" && $0.serial == 1 }?.pid == 4242)
        #expect(a.attempts.first { $0.step == "build" && $0.serial == 1 }?.errorCode == "UPSTREAM_RATE_LIMITED")
        #expect(a.steps.first { $0.name == "promote[a]" }?.progressMessage == "copying")
    }

    /// Steps going running, retrying, succeeding and failing in one batch (see
    /// `aBatchStoresWhatOneByOneStores`).
    static let quickSteps: [StoreChange] = {
        let t = { (s: Double) in Date(timeIntervalSince1970: 2_000 + s) }
        func attempt(_ step: StepName, _ serial: Int, at: Double) -> AttemptRecord {
            var a = AttemptRecord(step: step, serial: serial, attempt: serial, startedAt: t(at))
            a.logPath = "/logs/\(step).\(serial).log"
            return a
        }
        return [
            .run(.running, at: t(0)), .step("build", .running, at: t(1)), .attemptStarted(attempt("build", 1, at: 1)),
            .attemptProcess("build", serial: 1, pid: 4242),
            .step("promote[a]", .running, at: t(1.5)), .attemptStarted(attempt("promote[a]", 1, at: 1.5)),
            .progress("promote[a]", percent: 40, message: "copying"),
            .attemptFinished("build", serial: 1, end: AttemptEnd(.exited(code: 75)),
                             errorCode: "UPSTREAM_RATE_LIMITED", message: "429",
                             counted: true, at: t(2)),
            .stepStatus("build", .queued, attempts: 1, serial: 1, retryAt: t(9), errorCode: "UPSTREAM_RATE_LIMITED",
                        message: "retrying",
                        at: t(2)),
            .outputs("promote[a]", ["release": "r1"]),
            .attemptFinished("promote[a]", serial: 1, end: AttemptEnd(.exited(code: 0)), errorCode: nil, message: nil,
                             counted: true, at: t(3)),
            .step("promote[a]", .succeeded, at: t(3)),
            .step("build", .running, serial: 2, at: t(9)), .attemptStarted(attempt("build", 2, at: 9)),
            .attemptFinished("build", serial: 2, end: AttemptEnd(.signalled(15)), errorCode: "STEP_FAILED",
                             message: "terminated",
                             counted: true, at: t(10)),
            .stepStatus("build", .failed, attempts: 2, serial: 2, retryAt: nil, errorCode: "STEP_FAILED",
                        message: "terminated", at: t(10)),
        ]
    }()

    static func describe(_ run: StoredRun) -> [String] {
        func text(_ value: Any?) -> String { value.map { "\($0)" } ?? "-" }
        let steps = run.steps.map { s in
            let fields: [Any?] = [s.name, s.status, s.attempts, s.serial, s.retryAt, s.errorCode, s.errorMessage,
                                  s.progress, s.progressMessage, s.startedAt, s.finishedAt, s.outputs]
            return fields.map(text).joined(separator: " ")
        }
        return steps + run.attempts.map { a in
            let fields: [Any?] = [a.step, a.serial, a.attempt, a.counted, a.startedAt, a.finishedAt, a.pid, a.exitCode,
                                  a.signal, a.timedOut, a.errorCode, a.message, a.logPath]
            return fields.map(text).joined(separator: " ")
        }
    }

    /// An attempt the launch journal shows but whose record was lost: recorded interrupted, not
    /// counted, and the step's serial moves past it.
    @Test(arguments: StoreBackend.all)
    func aLostAttemptIsRecordedUncounted(_ backend: StoreBackend) throws {
        let (store, id) = try storeWithARun(backend)
        var lost = AttemptRecord(step: "build", serial: 3, attempt: 1, startedAt: Self.t0)
        lost.finishedAt = Self.t0 + 1
        lost.errorCode = "INTERRUPTED"
        try store.apply([.lostAttempt(lost), .lostAttempt(lost)], to: id)
        let stored = try #require(try store.load(id))
        #expect(stored.attempts.map { "\($0.serial) \($0.counted) \($0.errorCode ?? "-")" } == ["3 false INTERRUPTED"])
        #expect(stored.steps[0].serial == 3)
    }

    @Test(arguments: StoreBackend.all)
    func invalidTransitionsAreRefusedAndNothingIsWritten(_ backend: StoreBackend) throws {
        let (store, id) = try storeWithARun(backend)
        #expect(throws: TransitionError.self) {
            try store.apply([.run(.running), .stepStatus("build", .succeeded, attempts: 0, serial: 0, retryAt: nil,
                                                         errorCode: nil,
                                                         message: nil, at: Self.t0)], to: id)
        }
        #expect(try store.load(id)?.run.status == .queued, "the batch rolled back as a whole")
        #expect(try store.events(of: id, after: 0).count == 1, "and its events with it")
        #expect((try? store.apply([.step("nope", .running)], to: id)) == nil, "a step the run does not have")
    }

    @Test(arguments: StoreBackend.all)
    func terminalStatesNeverChange(_ backend: StoreBackend) throws {
        let (store, id) = try storeWithARun(backend)
        try store.apply([.run(.running), .runStatus(.failed, errorCode: "X", message: "m", wakeAt: nil,
                                                    at: Self.t0 + 1)], to: id)
        #expect(throws: TransitionError.self) { try store.apply([.run(.succeeded)], to: id) }
        try store.apply([.step("build", .running), .step("build", .succeeded)], to: id)
        #expect(throws: TransitionError.self) { try store.apply([.step("build", .running)], to: id) }
        let run = try #require(try store.load(id))
        #expect(run.run.status == .failed && run.run.errorCode == "X" && run.run.errorMessage == "m")
        #expect(run.run.finishedAt == Self.t0 + 1)
        #expect(run.steps[0].status == .succeeded)
    }

    /// Many steps created and run in one transaction each: events numbered on from the run's
    /// last without a gap, in the order of their changes.
    @Test(arguments: StoreBackend.all, [1, 3, 5, 17, 64, 70, 151])
    func manyRowsInOneTransactionAreAllStoredInOrder(_ backend: StoreBackend, _ count: Int) throws {
        let store = try make(backend).store
        let id = RunID("20261123-000000-000001")
        let steps = (0..<count).map { StepRecord(name: StepName("s\($0)"), step: "s\($0)", item: nil, section: "main",
                                                 position: $0) }
        try store.createRun(sampleRun(), steps: steps.reversed())
        var changes: [StoreChange] = [.run(.running)]
        for step in steps { changes += [.step(step.name, .running), .step(step.name, .succeeded)] }
        try store.apply(changes, to: id)
        try store.apply([.run(.succeeded)], to: id)
        let stored = try #require(try store.load(id))
        #expect(stored.steps.map(\.name) == steps.map(\.name) && stored.steps.map(\.position) == Array(0..<count),
                "by position")
        #expect(stored.steps.allSatisfy { $0.status == .succeeded })
        let events = try store.events(of: id, after: 0)
        #expect(events.map(\.id) == (1...Int64(2 * count + 3)).map { $0 })
        let expected = ["run queued", "run running"] + steps.flatMap { ["\($0.name) running",
                                                                        "\($0.name) succeeded"] } + ["run succeeded"]
        #expect(events.map { "\($0.step ?? $0.kind) \($0.status ?? "")" } == expected)
    }

    /// Without its definition, a run loads as it does with it but for the definition's text.
    @Test(arguments: StoreBackend.all)
    func loadWithoutTheDefinitionLeavesOutItsTextOnly(_ backend: StoreBackend) throws {
        let (store, id) = try storeWithARun(backend)
        try store.apply([.run(.running), .step("build", .running),
                         .attemptStarted(AttemptRecord(step: "build", serial: 1, attempt: 1,
                                                       startedAt: Self.t0))], to: id)
        let full = try #require(try store.load(id, definition: true))
        let bare = try #require(try store.load(id, definition: false))
        #expect(full.run.definition == "version: 1" && bare.run.definition == "")
        #expect(bare.run.id == id && bare.run.status == .running && bare.run.params == full.run.params)
        #expect(Self.describe(bare) == Self.describe(full), "steps and attempts alike")
        #expect(bare.attempts.map { "\($0.step) \($0.serial)" } == ["build 1"] && full.attempts.count == 1)
        #expect(try store.load(RunID("20261123-000000-000009"), definition: false) == nil)
    }

    /// A run none of whose steps started comes without its steps; any other, as `load` has it.
    @Test(arguments: StoreBackend.all)
    func loadForExecutionLeavesOutTheStepsOfAFreshRunOnly(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        let id = RunID("20261123-000000-000001")
        #expect(try store.loadForExecution(id, definition: true) == nil)
        try store.createRun(sampleRun(), steps: sampleSteps)
        let fresh = try #require(try store.loadForExecution(id, definition: true))
        #expect(fresh.run.definition == "version: 1" && fresh.run.params["n"] == .int(3))
        #expect(try store.loadForExecution(id, definition: false)?.run.definition == "")
        #expect(fresh.steps.isEmpty && fresh.attempts.isEmpty && fresh.isFresh)
        try store.apply([.run(.running), .step("build", .running),
                         .attemptStarted(AttemptRecord(step: "build", serial: 1, attempt: 1,
                                                       startedAt: Self.t0))], to: id)
        let started = try #require(try store.loadForExecution(id, definition: true))
        #expect(started.steps.map(\.name) == ["build", "promote[a]"] && started.attempts.count == 1 && !started.isFresh)
    }
}
