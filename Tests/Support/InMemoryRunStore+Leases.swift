import Foundation
import RunnerCore

/// Leases and changes (`RunLeases`): a claim checks and bumps the epoch under the lock; a
/// batch is applied to a copy of the run, which replaces it only when every change was
/// accepted (the lease's extension included).
extension InMemoryRunStore {
    public func claim(_ run: RunID, owner: String, until: Date, now: Date,
                      isOwnerAlive: (String) -> Bool) throws -> Lease? {
        try write {
            guard let current = entries[run]?.run, !current.status.isTerminal else { return nil }
            if let holder = current.owner, holder != owner, let lease = current.leaseUntil, lease > now,
               isOwnerAlive(holder) {
                return nil
            }
            return take(run, owner: owner, until: until)
        }
    }

    public func claimUnstarted(_ run: RunID, owner: String, until: Date) throws -> Lease? {
        try write {
            guard let current = entries[run]?.run, current.owner == nil, current.status == .queued else { return nil }
            return take(run, owner: owner, until: until)
        }
    }

    private func take(_ run: RunID, owner: String, until: Date) -> Lease? {
        guard var entry = entries[run] else { return nil }
        entry.run.owner = owner
        entry.run.leaseUntil = until
        entry.run.epoch += 1
        entries[run] = entry
        return Lease(run: run, owner: owner, epoch: entry.run.epoch)
    }

    public func releaseLease(_ lease: Lease) throws {
        try write {
            guard let run = entries[lease.run]?.run, run.owner == lease.owner, run.epoch == lease.epoch else { return }
            entries[lease.run]?.run.owner = nil
            entries[lease.run]?.run.leaseUntil = nil
        }
    }

    public func apply(_ changes: [StoreChange], to run: RunID) throws {
        guard !changes.isEmpty else { return }
        try write {
            guard var entry = entries[run] else { throw InMemoryStoreError("no run \(run)") }
            for change in changes { try Self.apply(change, to: &entry) }
            entries[run] = entry
        }
    }

    public func apply(_ changes: [StoreChange], under lease: Lease, leaseUntil: Date?) throws {
        try write {
            guard var entry = entries[lease.run], entry.run.owner == lease.owner, entry.run.epoch == lease.epoch else {
                throw LeaseLost(lease: lease, holder: entries[lease.run]?.run.owner)
            }
            if let leaseUntil { entry.run.leaseUntil = leaseUntil }
            for change in changes { try Self.apply(change, to: &entry) }
            entries[lease.run] = entry
        }
    }

    static func apply(_ change: StoreChange, to entry: inout Entry) throws {
        switch change {
        case .runStatus(let status, let code, let message, let wake, let at):
            try applyRunStatus(status, code: code, message: message, wake: wake, at: at, to: &entry)
        case .stepStatus(let name, let status, let attempts, let serial, let retryAt, let code, let message, let at):
            let index = try stepIndex(name, to: status, in: entry)
            entry.steps[index].status = status
            entry.steps[index].attempts = attempts
            entry.steps[index].serial = serial
            entry.steps[index].retryAt = retryAt
            update(&entry.steps[index], to: status, code: code, message: message, at: at)
            appendEvent(at: at, kind: "step", step: name.rawValue, status: status.rawValue, message: message,
                        to: &entry)
        case .attemptStarted(let attempt):
            guard !entry.attempts.contains(where: { $0.step == attempt.step && $0.serial == attempt.serial }) else {
                throw InMemoryStoreError("attempt \(attempt.serial) of \(attempt.step) exists already")
            }
            var started = AttemptRecord(step: attempt.step, serial: attempt.serial, attempt: attempt.attempt,
                                        startedAt: attempt.startedAt)
            started.logPath = attempt.logPath
            started.pid = attempt.pid
            entry.attempts.append(started)
        case .lostAttempt(let attempt):
            applyLost(attempt, to: &entry)
        case .attemptProcess(let name, let serial, let pid):
            if let i = entry.attempts.firstIndex(where: { $0.step == name && $0.serial == serial }) {
                entry.attempts[i].pid = pid
            }
        case .attemptFinished(let name, let serial, let end, let code, let message, let counted, let at):
            let open = entry.attempts.firstIndex { $0.step == name && $0.serial == serial && $0.finishedAt == nil }
            guard let i = open else { return }
            entry.attempts[i].finishedAt = at
            entry.attempts[i].exitCode = end.exitCode
            entry.attempts[i].signal = end.signal
            entry.attempts[i].timedOut = end.reason == .timedOut
            entry.attempts[i].errorCode = code
            entry.attempts[i].message = message
            entry.attempts[i].counted = counted
        case .outputs(let name, let outputs):
            entry.outputs[name.rawValue, default: [:]].merge(outputs) { _, new in new }
        case .progress(let name, let percent, let message):
            guard let i = entry.steps.firstIndex(where: { $0.name == name && $0.status == .running }) else { return }
            entry.steps[i].progress = percent
            entry.steps[i].progressMessage = message
        }
    }

    private static func applyRunStatus(_ status: RunStatus, code: String?, message: String?, wake: Date?, at: Date,
                                       to entry: inout Entry) throws {
        let from = entry.run.status
        guard from == status || from.canTransition(to: status) else {
            throw TransitionError(subject: "run \(entry.run.id)", from: from.rawValue, to: status.rawValue)
        }
        entry.run.status = status
        entry.run.errorCode = code ?? entry.run.errorCode
        entry.run.errorMessage = message ?? entry.run.errorMessage
        entry.run.wakeAt = wake
        entry.run.updatedAt = at
        if status == .running, entry.run.startedAt == nil { entry.run.startedAt = at }
        if status.isTerminal { entry.run.finishedAt = at }
        appendEvent(at: at, kind: "run", step: nil, status: status.rawValue, message: message, to: &entry)
    }

    /// The step's index, if the state machine lets it move to `status` (or it is there already).
    private static func stepIndex(_ name: StepName, to status: StepStatus, in entry: Entry) throws -> Int {
        guard let index = entry.steps.firstIndex(where: { $0.name == name }) else {
            throw InMemoryStoreError("no step \(name) in run \(entry.run.id)")
        }
        let from = entry.steps[index].status
        guard from == status || from.canTransition(to: status) else {
            throw TransitionError(subject: "step \(name) of run \(entry.run.id)", from: from.rawValue,
                                  to: status.rawValue)
        }
        return index
    }

    private static func update(_ step: inout StepRecord, to status: StepStatus, code: String?, message: String?,
                               at: Date) {
        step.errorCode = status == .succeeded || status == .running ? nil : code ?? step.errorCode
        step.errorMessage = status == .succeeded ? nil : message ?? step.errorMessage
        if status == .running, step.startedAt == nil { step.startedAt = at }
        if status.isTerminal { step.finishedAt = at }
        if status == .succeeded { step.progress = 100 }
    }

    private static func applyLost(_ attempt: AttemptRecord, to entry: inout Entry) {
        if !entry.attempts.contains(where: { $0.step == attempt.step && $0.serial == attempt.serial }) {
            var lost = AttemptRecord(step: attempt.step, serial: attempt.serial, attempt: attempt.attempt,
                                     startedAt: attempt.startedAt)
            lost.counted = false
            lost.finishedAt = attempt.finishedAt
            lost.errorCode = attempt.errorCode
            lost.message = attempt.message
            lost.logPath = attempt.logPath
            entry.attempts.append(lost)
        }
        if let i = entry.steps.firstIndex(where: { $0.name == attempt.step }) {
            entry.steps[i].serial = max(entry.steps[i].serial, attempt.serial)
        }
    }

    private static func appendEvent(at: Date, kind: String, step: String?, status: String?, message: String?,
                                    to entry: inout Entry) {
        let id = (entry.events.last?.id ?? 0) + 1
        entry.events.append(RunEvent(id: id, at: at, kind: kind, step: step, status: status, message: message))
    }
}
