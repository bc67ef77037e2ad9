#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore

extension RunExecutor {
    /// Events that arrived together are handled together and committed together (two steps
    /// ending at once cost one commit, not two).
    func process(_ batch: [Input]) {
        guard let finished, scheduler != nil else { return }
        let now = clock.now()
        for input in batch {
            switch input {
            case .scheduler(let event):
                guard !self.scheduler!.isFinished else { continue }
                stage(self.scheduler!.handle(event, now: now))
            case .store(.ready):
                break  // the held launches are tried again below
            case .store(.waiting(let why)):
                options.observer?(.storeWaiting(why, patience: options.storePatience))
            case .store(.recovered):
                options.observer?(.storeWaiting(nil, patience: options.storePatience))
            case .store(.failed(let error)):
                stop(finished, because: error)
                return
            }
        }
        do {
            try commit()
        } catch {
            stop(finished, because: error)
            return
        }
        if self.scheduler!.isFinished && heldLaunches.isEmpty { end(finished, throwing: nil) }
    }

    func end(_ finished: CheckedContinuation<Void, any Error>, throwing error: (any Error)?) {
        self.finished = nil
        continuation.setConsumer(nil)
        if let error { finished.resume(throwing: error) } else { finished.resume() }
    }

    /// The run cannot go on here: the store gave up, or another runner took the run over.
    /// Every step this executor started is killed (its process group); nothing more starts.
    /// Nothing of it is lost: the launch journal has each launch, and a resume records what
    /// was in flight as interrupted and runs it again.
    func stop(_ finished: CheckedContinuation<Void, any Error>, because error: any Error) {
        for attempt in running.values { if let pid = attempt.pid { kill(-pid, SIGKILL) } }
        heldLaunches.removeAll()
        end(finished, throwing: Self.executorError(error, runID))
    }

    /// What the executor reports for a failure of the store or of the lease.
    static func executorError(_ error: any Error, _ run: RunID) -> ExecutorError {
        switch error {
        case let lost as LeaseLost: .leaseLost(run, "\(lost)")
        case let gaveUp as StoreUnavailable: .storeUnavailable(run, "\(gaveUp)")
        case let known as ExecutorError: known
        default: .store("\(error)")
        }
    }

    // MARK: - Applying the scheduler's actions

    func apply(_ actions: [RunScheduler.Action]) async throws {
        stage(actions)
        try commit()
    }

    /// Records what the actions change (in `pending`, read from the scheduler as it is right
    /// after them) and keeps their launches, terminations and step timeouts for `commit`.
    func stage(_ actions: [RunScheduler.Action]) {
        guard let scheduler else { return }
        let now = Date()
        for action in actions {
            switch action {
            case .runStatus(let status, let code, let message, let wake):
                pending.append(.runStatus(status, errorCode: code, message: message, wakeAt: wake, at: now))
                options.observer?(.runStatus(runID, status, errorCode: code, message: message, wakeAt: wake))
            case .stepStatus(let i, let status, let code, let message):
                let instance = scheduler.instances[i]
                pending.append(.stepStatus(instance.name, status, attempts: instance.attempts, serial: instance.serial,
                                           retryAt: instance.retryAt, errorCode: code, message: message, at: now))
                options.observer?(.stepStatus(instance.name, status, attempt: instance.attempts, errorCode: code, message: message, at: now))
            case .launch(let request):
                stagedLaunches.append(request)
            case .terminate(let i, let serial, _):
                stagedTerminations.append((i, serial))
            case .setTimer(let key, let date):
                if case .timeout = key {
                    // Counted from the process's start (which a held launch has not had yet).
                    stepTimeouts[key] = clock.delay(until: date)
                } else {
                    schedule(key, after: clock.delay(until: date))
                }
            case .attemptEnded(let i, let serial, let end, let code, let message, let counted):
                stageEnd(i, serial: serial, end: end, code: code, message: message, counted: counted, at: now)
            case .outputs(let i, let values):
                pending.append(.outputs(scheduler.instances[i].name, values))
            }
        }
    }

    private func stageEnd(_ i: Int, serial: Int, end: AttemptEnd, code: String?, message: String?, counted: Bool, at now: Date) {
        guard let scheduler else { return }
        let name = scheduler.instances[i].name
        // The last progress line the step wrote, recorded before its end (in the writer:
        // looking for a file the step most likely never wrote is not for the critical path).
        if let attempt = running[i], !attempt.progressPath.isEmpty {
            let observer = options.observer, masker = self.masker
            writer.submitDeferred(of: runID) {
                guard access(attempt.progressPath, F_OK) == 0 else { return [] }  // most steps write none
                let read = Self.readProgress(attempt, masker: masker)
                unlink(attempt.progressPath)  // read, masked: its raw text stays nowhere
                guard let read, let percent = read.percent else { return [] }
                observer?(.progress(name, percent: percent, message: read.message))
                return [.progress(name, percent: percent, message: read.message)]
            }
        }
        running[i] = nil
        pending.append(.attemptFinished(name, serial: serial, end: end, errorCode: code, message: message, counted: counted, at: now))
        options.observer?(.attemptEnded(name, serial: serial, end, errorCode: code, message: message, at: now))
    }

    /// Acts on what was staged and stores it in one transaction. Launches are journaled
    /// (one append), then started, then committed with their pids: the commit is off the
    /// critical path from one step's end to the next step's start, and the journal keeps a
    /// launch the runner dies before committing (see `LaunchJournal`).
    ///
    /// Nothing is launched that cannot be recorded: while the store lags behind (it is locked
    /// or failing) or the lease has not been confirmed lately (this runner may have been
    /// paused past it), launches are held until the writer says `ready`, or `failed`.
    func commit() throws {
        var changes = pending
        var launches = heldLaunches + stagedLaunches
        let terminations = stagedTerminations
        pending.removeAll()
        stagedLaunches.removeAll()
        stagedTerminations.removeAll()
        heldLaunches.removeAll()
        // A held launch asked to stop (cancel, timeout) never starts: it ends as killed would.
        for (i, serial) in terminations {
            if let index = launches.firstIndex(where: { $0.instance == i && $0.serial == serial }) {
                launches.remove(at: index)
                stepTimeouts[.timeout(instance: i, serial: serial)] = nil
                continuation.yield(.scheduler(.attemptEnded(instance: i, serial: serial, AttemptEnd(.signalled(SIGTERM)), outputs: [:])))
            }
        }
        if !launches.isEmpty && !writer.canLaunch(runID) {
            heldLaunches = launches
            launches = []
        }
        let now = Date()
        // A log folder removed meanwhile is made again before anything is started into it.
        if !launches.isEmpty && logDirectorySeenAt.elapsed > 0.1 { ensureLogDirectory() }
        do {
            try journal.append(launches.map { LaunchJournal.Entry(name: $0.name, serial: $0.serial, attempt: $0.attempt, at: now) })
            if journalFailingSince != nil {
                journalFailingSince = nil
                options.observer?(.storeWaiting(nil, patience: options.storePatience))
            }
        } catch {
            // Not journaled, not launched: held, and tried again shortly (a full disk may
            // clear), for as long as the store itself would be waited for.
            let since = journalFailingSince ?? Monotonic.now()
            if journalFailingSince == nil { options.observer?(.storeWaiting("\(error)", patience: options.storePatience)) }
            journalFailingSince = since
            guard since.elapsed < options.storePatience else {
                throw StoreUnavailable(message: "\(error)", waited: since.elapsed)
            }
            heldLaunches += launches
            launches = []
            let inbox = continuation
            _ = loop.schedule(after: 0.5) { inbox.yield(.store(.ready)) }
        }
        for request in launches {
            let attempt = start(request, now: now)
            changes.append(.attemptStarted(attempt))
            let timeout = RunScheduler.TimerKey.timeout(instance: request.instance, serial: request.serial)
            if let delay = stepTimeouts.removeValue(forKey: timeout) { schedule(timeout, after: delay) }
        }
        try writer.submit(changes, of: runID)
        for (i, serial) in terminations {
            if let attempt = running[i], attempt.serial == serial, let pid = attempt.pid {
                launcher.terminate(pid, grace: options.killGrace)
            }
        }
    }

    func flush() throws {
        guard !pending.isEmpty else { return }
        let changes = pending
        pending.removeAll()
        try writer.submit(changes, of: runID)
    }

    /// A timer of the scheduler, `delay` seconds from now on the monotonic clock (a timer of
    /// the event loop, not a Dispatch one).
    func schedule(_ key: RunScheduler.TimerKey, after delay: Double) {
        if let old = timers[key] { loop.cancelTimer(old) }
        let continuation = self.continuation
        timers[key] = loop.schedule(after: delay) { continuation.yield(.scheduler(.timer(key))) }
    }

    /// The run's log folder made again if it was removed; the launch journal then reopens
    /// (its file went with the folder).
    func ensureLogDirectory() {
        if access(logDirectory, F_OK) != 0 {
            try? state.ensureLogs(of: runID)
            journal.close()
        }
        logDirectorySeenAt = Monotonic.now()
    }

    /// Suspends for `seconds` on the event loop's monotonic timer (the loop serves other runs
    /// meanwhile).
    func sleep(_ seconds: Double) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            _ = loop.schedule(after: seconds) { done.resume() }
        }
    }

    /// Polls (progress, cancel requests, the lease, the log folder) every `pollInterval`,
    /// on the loop, until the run is finished.
    func schedulePoll() {
        let interval = Double(DurationText.milliseconds(options.pollInterval)) / 1000
        pollTimer = loop.schedule(after: interval) { [weak self] in
            guard let self else { return }
            self.assumeIsolated { executor in
                guard executor.scheduler != nil, executor.pollTimer != nil else { return }
                executor.poll()
                executor.schedulePoll()
            }
        }
    }

    /// Asks the writer to renew the lease when a third of it has passed since the last ask.
    func renewLeaseIfDue() throws {
        try writer.submit([], of: runID)  // throws what made the writer give the run up
        guard Monotonic.now() - leaseRenewedAt > options.leaseDuration / 3 else { return }
        leaseRenewedAt = Monotonic.now()
        writer.renew(runID)
    }
}
