import Foundation
import Testing
import RunnerCore
import RunnerStore
import RunnerTestSupport

/// Leases and fencing, cancel flags, and the concurrency rule's create-unless-active: the
/// atomicity contracts of `RunLeases`, `CancelSignals` and `RunRecordStore`, also under
/// concurrent callers on other connections.
extension RunStoreConformanceTests {
    @Test(arguments: StoreBackend.all)
    func leases(_ backend: StoreBackend) throws {
        let (store, id) = try storeWithARun(backend)
        let now = Date(timeIntervalSince1970: 5_000)
        let a = try #require(try store.claim(id, owner: "a", until: now + 15, now: now, isOwnerAlive: { _ in true }))
        #expect(a.epoch == 1 && a.owner == "a" && a.run == id)
        #expect(try store.claim(id, owner: "b", until: now + 15, now: now, isOwnerAlive: { _ in true }) == nil,
                "a live lease holds")
        let b = try #require(try store.claim(id, owner: "b", until: now + 15, now: now, isOwnerAlive: { $0 != "a" }),
                             "a dead owner's lease is void")
        #expect(b.epoch == a.epoch + 1, "each claim bumps the epoch")
        #expect(throws: LeaseLost.self) { try store.apply([], under: a, leaseUntil: now + 30) }
        try store.apply([], under: b, leaseUntil: now + 30)
        #expect(try store.load(id)?.run.leaseUntil == now + 30)
        try store.apply([], under: b, leaseUntil: nil)
        #expect(try store.load(id)?.run.leaseUntil == now + 30, "a check alone extends nothing")
        let c = try #require(try store.claim(id, owner: "c", until: now + 60, now: now + 31,
                                             isOwnerAlive: { _ in true }),
                             "an expired lease is free")
        try store.releaseLease(b)
        #expect(try store.load(id)?.run.owner == "c", "a void lease releases nothing")
        try store.releaseLease(c)
        let released = try #require(try store.load(id)?.run)
        #expect(released.owner == nil && released.leaseUntil == nil && released.epoch == c.epoch)
        #expect(try store.claim(RunID("20261123-000000-000009"), owner: "a", until: now, now: now,
                                isOwnerAlive: { _ in true }) == nil)
    }

    @Test(arguments: StoreBackend.all)
    func aFinishedRunIsNeverClaimed(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        try store.createRun(sampleRun(), steps: [])
        try store.apply([.run(.running), .run(.succeeded)], to: sampleRun().id)
        #expect(try store.claim(sampleRun().id, owner: "a", until: Self.t0, now: Self.t0,
                                isOwnerAlive: { _ in false }) == nil)
        #expect(try store.claimUnstarted(sampleRun().id, owner: "a", until: Self.t0) == nil)
    }

    /// A paused owner's writes after another runner claimed the run change nothing (fencing).
    @Test(arguments: StoreBackend.all)
    func aWriteUnderAVoidLeaseChangesNothing(_ backend: StoreBackend) throws {
        let (store, id) = try storeWithARun(backend)
        let now = Date(timeIntervalSince1970: 5_000)
        let paused = try #require(try store.claimUnstarted(id, owner: "a", until: now + 15))
        #expect(try store.claimUnstarted(id, owner: "b", until: now + 15) == nil, "claimed once only")
        let taker = try #require(try store.claim(id, owner: "b", until: now + 60, now: now + 20,
                                                 isOwnerAlive: { _ in true }))
        try store.apply([.run(.running, at: now + 21)], under: taker, leaseUntil: now + 80)
        do {
            try store.apply([.run(.succeeded, at: now + 22)], under: paused, leaseUntil: now + 40)
            Issue.record("a write under a void lease was stored")
        } catch let lost as LeaseLost {
            #expect(lost.holder == "b" && lost.lease == paused)
            #expect("\(lost)".contains("taken over"))
        }
        let run = try #require(try store.load(id)?.run)
        #expect(run.status == .running && run.owner == "b" && run.leaseUntil == now + 80 && run.epoch == taker.epoch)
        #expect(try store.events(of: id, after: 0).map(\.status) == ["queued", "running"])
    }

    /// A fenced batch that is refused part-way stores nothing, not even the lease's extension.
    @Test(arguments: StoreBackend.all)
    func aRefusedFencedBatchExtendsNothing(_ backend: StoreBackend) throws {
        let (store, id) = try storeWithARun(backend)
        let lease = try #require(try store.claimUnstarted(id, owner: "a", until: Self.t0 + 15))
        #expect(throws: TransitionError.self) {
            try store.apply([.run(.running), .step("build", .succeeded)], under: lease, leaseUntil: Self.t0 + 99)
        }
        let run = try #require(try store.load(id)?.run)
        #expect(run.status == .queued && run.leaseUntil == Self.t0 + 15)
    }

    /// Concurrent claims on other connections: each that succeeds has an epoch of its own,
    /// and the last of them holds the run.
    @Test(arguments: StoreBackend.all)
    func concurrentClaimsNeverShareAnEpoch(_ backend: StoreBackend) async throws {
        let made = try make(backend)
        try made.store.createRun(sampleRun(), steps: [])
        let epochs = Collected<Int64>()
        let failures = try await concurrently(4) { worker in
            let store = try made.anotherConnection()
            for _ in 0..<10 {
                // Every owner is dead to every other: each claim takes the run over.
                let lease = try store.claim(sampleRun().id, owner: "w\(worker)", until: Self.t0 + 60, now: Self.t0,
                                            isOwnerAlive: { _ in false })
                if let lease { epochs.add(lease.epoch) }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(epochs.values.count == 40 && Set(epochs.values).count == 40)
        #expect(try made.store.load(sampleRun().id)?.run.epoch == epochs.values.max())
    }

    @Test(arguments: StoreBackend.all)
    func cancelRequestsOnlyForUnfinishedRuns(_ backend: StoreBackend) throws {
        let (store, id) = try storeWithARun(backend)
        #expect(try !store.isCancelRequested(id))
        #expect(try store.requestCancel(id, at: Self.t0))
        #expect(try store.requestCancel(id, at: Self.t0 + 1), "asked again: still unfinished")
        #expect(try store.isCancelRequested(id))
        try store.apply([.run(.cancelled)], to: id)
        #expect(try !store.requestCancel(id, at: Self.t0))
        #expect(try !store.requestCancel(RunID("20261123-000000-000009"), at: Self.t0))
        #expect(try !store.isCancelRequested(RunID("20261123-000000-000009")))
    }

    /// The concurrency rule's reject and skip: a run is created only while its group has no
    /// unfinished run; a queued run waits for the older unfinished runs of its group.
    @Test(arguments: StoreBackend.all)
    func aGroupWithAnUnfinishedRunCreatesNothing(_ backend: StoreBackend) throws {
        let store = try make(backend).store
        func run(_ n: Int, group: String? = "g") -> RunRecord {
            var run = sampleRun("20261123-00000\(n)-000000", at: Date(timeIntervalSince1970: Double(1_000 + n)))
            run.concurrencyGroup = group
            return run
        }
        #expect(try store.createRun(run(1), steps: [], unlessActiveIn: "g") == nil)
        let active = try #require(try store.createRun(run(2), steps: [], unlessActiveIn: "g"))
        #expect(active.id == run(1).id && active.definition == "")
        #expect(try store.load(run(2).id) == nil, "the refused run was not created")
        #expect(try store.createRun(run(3, group: "other"), steps: [], unlessActiveIn: "other") == nil)
        try store.createRun(run(4), steps: [])
        #expect(try store.activeRun(inGroup: "g", before: run(4))?.id == run(1).id)
        #expect(try store.activeRun(inGroup: "g", before: run(1)) == nil, "nothing older")
        try store.apply([.run(.running), .run(.succeeded)], to: run(1).id)
        #expect(try store.activeRun(inGroup: "g", before: run(4)) == nil)
        #expect(try store.createRun(run(5), steps: [], unlessActiveIn: "g")?.id == run(4).id, "run 4 is unfinished")
        try store.apply([.run(.cancelled)], to: run(4).id)
        #expect(try store.createRun(run(5), steps: [], unlessActiveIn: "g") == nil)
    }

    /// Of concurrent creates in a group with no unfinished run, exactly one succeeds; every
    /// other returns it.
    @Test(arguments: StoreBackend.all)
    func concurrentCreatesInAGroupCreateOneRun(_ backend: StoreBackend) async throws {
        let made = try make(backend)
        let created = Collected<RunID>(), refusedFor = Collected<RunID>()
        let failures = try await concurrently(6) { worker in
            let store = try made.anotherConnection()
            var run = sampleRun("20261123-000000-00000\(worker)")
            run.concurrencyGroup = "deploy"
            if let active = try store.createRun(run, steps: sampleSteps, unlessActiveIn: "deploy") {
                refusedFor.add(active.id)
            } else {
                created.add(run.id)
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(created.values.count == 1 && refusedFor.values.count == 5)
        #expect(Set(refusedFor.values) == Set(created.values))
        #expect(try made.store.runs(RunQuery()).map(\.id) == created.values)
    }
}
