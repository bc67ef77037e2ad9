import Foundation
import Testing
import RunnerCore
import RunnerStore
import RunnerTestSupport

/// Idempotency keys, tokens, the audit log, schedule marks and metrics.
extension RunStoreConformanceTests {
    @Test(arguments: StoreBackend.all)
    func idempotencyKeysClaimReplayMismatchAndExpire(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        let t = Date(timeIntervalSince1970: 10_000)
        func claim(_ key: String, _ hash: String, at: Date = t) throws -> IdempotencyClaim {
            try store.claimIdempotencyKey(scope: "ci POST /x", key: key, payloadHash: hash, now: at,
                                          expiresAt: at.addingTimeInterval(60))
        }
        #expect(try claim("k", "h1") == .proceed)
        #expect(try claim("k", "h1") == .inFlight)
        #expect(try claim("k", "h2") == .mismatch)
        try store.completeIdempotencyKey(scope: "ci POST /x", key: "k", status: 202,
                                         body: Array(#"{"run_id":"r"}"#.utf8), runID: RunID("r"))
        #expect(try claim("k", "h1") == .replay(status: 202, body: Array(#"{"run_id":"r"}"#.utf8)))
        try store.releaseIdempotencyKey(scope: "ci POST /x", key: "k")
        #expect(try claim("k", "h1") == .replay(status: 202, body: Array(#"{"run_id":"r"}"#.utf8)),
                "a completed key is not let go")
        #expect(try store.claimIdempotencyKey(scope: "other POST /x", key: "k", payloadHash: "h2", now: t,
                                              expiresAt: t + 60) == .proceed,
                "keys are scoped by caller and route")
        #expect(try claim("k", "h2", at: t.addingTimeInterval(61)) == .proceed, "an expired key starts over")
        try store.releaseIdempotencyKey(scope: "ci POST /x", key: "k")
        #expect(try claim("k", "h3") == .proceed, "a released key goes ahead")
        #expect(try store.expireIdempotencyKeys(now: t.addingTimeInterval(59)) == 0)
        #expect(try store.expireIdempotencyKeys(now: t.addingTimeInterval(3600)) == 2)
        #expect(try claim("k", "h1") == .proceed)
    }

    /// Keys a killed server left in flight: the one whose run was created gets that run's
    /// acceptance; the other is let go.
    @Test(arguments: StoreBackend.all)
    func keysLeftInFlightAreSettledByTheirRuns(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        let t = Date(timeIntervalSince1970: 10_000)
        for key in ["made", "lost"] {
            #expect(try store.claimIdempotencyKey(scope: "ci POST /p", key: key, payloadHash: "h", now: t,
                                                  expiresAt: t + 60) == .proceed)
        }
        var run = sampleRun()
        run.trigger = .api
        run.triggerDetail = [RunRecord.idempotencyKeyDetail: "made", RunRecord.idempotencyScopeDetail: "ci POST /p"]
        try store.createRun(run, steps: sampleSteps)
        var other = sampleRun("20261123-000000-000002")
        other.triggerDetail = [RunRecord.idempotencyKeyDetail: "lost", RunRecord.idempotencyScopeDetail: "someone else"]
        try store.createRun(other, steps: [])
        let settled = try store.settleInFlightIdempotencyKeys { run in (202, Array("accepted \(run.id)".utf8)) }
        #expect(settled == 2)
        #expect(try store.claimIdempotencyKey(scope: "ci POST /p", key: "made", payloadHash: "h", now: t,
                                              expiresAt: t + 60)
                == .replay(status: 202, body: Array("accepted \(run.id)".utf8)))
        #expect(try store.claimIdempotencyKey(scope: "ci POST /p", key: "lost", payloadHash: "h", now: t,
                                              expiresAt: t + 60) == .proceed)
        #expect(try store.settleInFlightIdempotencyKeys { _ in (500, []) } == 1, "the key claimed again is in flight")
    }

    /// Of concurrent claims of one key, on other connections, exactly one goes ahead.
    @Test(arguments: StoreBackend.all)
    func concurrentClaimsOfAKeyLetOneProceed(_ backend: StoreBackend) async throws {
        let made = try make(backend)
        let t = Date(timeIntervalSince1970: 10_000)
        let claims = Collected<IdempotencyClaim>()
        let failures = try await concurrently(6) { _ in
            let store = try made.anotherConnection()
            claims.add(try store.claimIdempotencyKey(scope: "ci POST /p", key: "k", payloadHash: "h", now: t,
                                                     expiresAt: t + 60))
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(claims.values.filter { $0 == .proceed }.count == 1)
        #expect(claims.values.filter { $0 == .inFlight }.count == 5)
    }

    @Test(arguments: StoreBackend.all)
    func tokensAreCreatedOncePerNameAndRevoked(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        let ci = TokenRecord(id: "0123456789abcdef", name: "ci", role: .operator, hash: "h1",
                             createdAt: Date(timeIntervalSince1970: 2))
        let admin = TokenRecord(id: "fedcba9876543210", name: "root", role: .admin, hash: "h2",
                                createdAt: Date(timeIntervalSince1970: 1))
        try store.createToken(ci)
        try store.createToken(admin)
        var taken = admin
        taken.id = "00000000000000aa"
        taken.name = "ci"
        #expect(throws: TokenNameTaken(name: "ci")) { try store.createToken(taken) }
        #expect("\(TokenNameTaken(name: "ci"))" == "a token named 'ci' exists already")
        #expect(try store.tokens().map(\.name) == ["root", "ci"], "oldest first")
        #expect(try store.token(id: ci.id) == ci)
        #expect(try store.token(id: "nope") == nil)
        #expect(try store.revokeToken(name: "ci", at: Date(timeIntervalSince1970: 5)))
        #expect(try !store.revokeToken(name: "ci", at: Date(timeIntervalSince1970: 6)), "revoked once")
        #expect(try !store.revokeToken(name: "nobody", at: Date(timeIntervalSince1970: 6)))
        #expect(try store.token(id: ci.id)?.revokedAt == Date(timeIntervalSince1970: 5),
                "a revoked token is still found")
        #expect(throws: TokenNameTaken.self) { try store.createToken(taken) }
    }

    @Test(arguments: StoreBackend.all)
    func theAuditLogIsNewestFirstAndLimited(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        let at = Date(timeIntervalSince1970: 3_000)
        for n in 0..<5 {
            // The same instant for all: the order is the order of appending.
            try store.appendAudit(AuditRecord(at: at, action: "launch", runID: RunID("r\(n)"), pipeline: "p",
                                              actor: "ci",
                                              params: ["n": .int(n)], traceID: n == 0 ? "trace" : nil))
        }
        try store.appendAudit(AuditRecord(at: at, action: "launch_rejected", runID: RunID("r1"), pipeline: "p",
                                          actor: "cli:root",
                                          params: [:], traceID: nil, code: "PUBLISH_ALREADY_ACTIVE"))
        let newest = try store.audit(limit: 3)
        #expect(newest.map { $0.runID?.rawValue ?? "-" } == ["r1", "r4", "r3"])
        #expect(newest[0].action == "launch_rejected" && newest[0].code == "PUBLISH_ALREADY_ACTIVE")
        #expect(newest[0].actor == "cli:root")
        #expect(newest[1].code == nil && newest[1].params == ["n": .int(4)])
        let all = try store.audit(limit: 100)
        #expect(all.count == 6 && all.last?.traceID == "trace" && all.last?.at == at)
        #expect(try store.audit(limit: 0).count == 1, "at least one")
    }

    @Test(arguments: StoreBackend.all)
    func scheduleMarksAreKeptPerEntryAndCron(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        let first = Date(timeIntervalSince1970: 86_400), second = Date(timeIntervalSince1970: 2 * 86_400)
        #expect(try store.scheduleLastFired(pipeline: "p", entry: 0, cron: "0 3 * * *") == nil)
        try store.setScheduleLastFired(pipeline: "p", entry: 0, cron: "0 3 * * *", at: first)
        try store.setScheduleLastFired(pipeline: "p", entry: 1, cron: "*/5 * * * *", at: second)
        #expect(try store.scheduleLastFired(pipeline: "p", entry: 0, cron: "0 3 * * *") == first)
        #expect(try store.scheduleLastFired(pipeline: "q", entry: 0, cron: "0 3 * * *") == nil)
        try store.setScheduleLastFired(pipeline: "p", entry: 0, cron: "0 3 * * *", at: second)
        #expect(try store.scheduleLastFired(pipeline: "p", entry: 0, cron: "0 3 * * *") == second)
        try store.setScheduleLastFired(pipeline: "p", entry: 0, cron: "0 4 * * *", at: first)
        #expect(try store.scheduleLastFired(pipeline: "p", entry: 0, cron: "0 3 * * *") == nil,
                "a changed cron is a new schedule")
        #expect(try store.scheduleLastFired(pipeline: "p", entry: 0, cron: "0 4 * * *") == first)
        #expect(try store.scheduleLastFired(pipeline: "p", entry: 1, cron: "*/5 * * * *") == second)
    }

    @Test(arguments: StoreBackend.all)
    func aScheduleMarkIsSetOnlyOverTheMarkRead(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        let cron = "0 3 * * *"
        let first = Date(timeIntervalSince1970: 86_400), second = Date(timeIntervalSince1970: 2 * 86_400)
        func mark(_ expected: Date?, _ at: Date) throws -> Bool {
            try store.compareAndSetScheduleLastFired(pipeline: "p", entry: 0, cron: cron, expected: expected, at: at)
        }
        #expect(try mark(nil, first))
        #expect(try !mark(nil, second), "a first mark is set once")
        let read = try #require(try store.scheduleLastFired(pipeline: "p", entry: 0, cron: cron))
        #expect(try mark(read, second))
        #expect(try !mark(read, second + 60), "the mark read is no longer the store's")
        #expect(try store.scheduleLastFired(pipeline: "p", entry: 0, cron: cron) == second)
        #expect(try !store.compareAndSetScheduleLastFired(pipeline: "p", entry: 0, cron: "0 4 * * *", expected: second,
                                                          at: second + 60), "a mark of another cron text is no mark")
        #expect(try store.compareAndSetScheduleLastFired(pipeline: "p", entry: 0, cron: "0 4 * * *", expected: nil,
                                                         at: first), "a changed cron starts over")
        #expect(try store.scheduleLastFired(pipeline: "p", entry: 0, cron: "0 4 * * *") == first)
    }

    /// Nodes that read the same mark and decided to fire: one of them fires.
    @Test(arguments: StoreBackend.all)
    func ofConcurrentCompareAndSetsOfOneMarkOneWins(_ backend: StoreBackend) async throws {
        let made = try make(backend)
        let cron = "*/5 * * * *", last = Date(timeIntervalSince1970: 86_400)
        try made.store.setScheduleLastFired(pipeline: "p", entry: 0, cron: cron, at: last)
        let read = try #require(try made.store.scheduleLastFired(pipeline: "p", entry: 0, cron: cron))
        let wins = Collected<Bool>()
        let failures = try await concurrently(6) { worker in
            let store = try made.anotherConnection()
            wins.add(try store.compareAndSetScheduleLastFired(pipeline: "p", entry: 0, cron: cron, expected: read,
                                                              at: last + Double(300 * (worker + 1))))
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(wins.values.filter { $0 }.count == 1 && wins.values.count == 6)
    }

    @Test(arguments: StoreBackend.all)
    func metricsCountRunsAndTimeSteps(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        #expect(try store.runCounts().isEmpty && store.stepDurations().isEmpty)
        for n in 1...3 { try store.createRun(sampleRun("20261123-000000-00000\(n)"), steps: sampleSteps) }
        let id = RunID("20261123-000000-000001")
        try store.apply([.run(.running), .step("build", .running, at: Self.t0), .step("build", .succeeded,
                                                                                      at: Self.t0 + 2.5),
                         .step("promote[a]", .running, at: Self.t0 + 3), .step("promote[a]", .failed,
                                                                               at: Self.t0 + 4)], to: id)
        try store.apply([.run(.cancelled)], to: RunID("20261123-000000-000002"))
        #expect(try store.runCounts() == [.running: 1, .cancelled: 1, .queued: 1])
        #expect(try store.stepDurations() == [1, 2.5], "newest finished first")
    }
}
