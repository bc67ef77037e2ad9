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
        let now = steady.now()
        for input in batch {
            switch input {
            case .scheduler(let event):
                guard scheduler?.isFinished == false, let actions = scheduler?.handle(event, now: now) else { continue }
                stage(actions)
            case .store(.ready):
                break  // the held launches are tried again below
            case .store(.waiting(let why)):
                options.observer?(.storeWaiting(why, patience: options.storePatience))
            case .store(.recovered):
                options.observer?(.storeWaiting(nil, patience: options.storePatience))
            case .store(.failed(let error)):
                return stop(finished, because: error)
            }
        }
        do {
            try commit()
        } catch {
            return stop(finished, because: error)
        }
        if scheduler?.isFinished == true && staged.held.isEmpty { end(finished, throwing: nil) }
    }

    func end(_ finished: CheckedContinuation<Void, any Error>, throwing error: (any Error)?) {
        self.finished = nil
        inbox.setConsumer(nil)
        if let error { finished.resume(throwing: error) } else { finished.resume() }
    }

    /// The run cannot go on here: the store gave up, or another runner took the run over.
    /// Every step this executor started is killed (its process group); nothing more starts.
    /// Nothing of it is lost: the launch journal has each launch, and a resume records what
    /// was in flight as interrupted and runs it again.
    func stop(_ finished: CheckedContinuation<Void, any Error>, because error: any Error) {
        for attempt in running.values { if let pid = attempt.pid { launcher.kill(processGroup: pid) } }
        staged.held.removeAll()
        end(finished, throwing: Self.executorError(error, runID))
    }

    // MARK: - Applying the scheduler's actions

    func apply(_ actions: [RunScheduler.Action]) async throws {
        stage(actions)
        try commit()
    }

    /// Records what the actions change (in `staged.changes`, read from the scheduler as it is
    /// right after them) and keeps their launches, terminations and step timeouts for `commit`.
    func stage(_ actions: [RunScheduler.Action]) {
        guard let scheduler else { return }
        let now = clock.now()
        for action in actions {
            switch action {
            case .runStatus(let status, let code, let message, let wake):
                staged.changes.append(.runStatus(status, errorCode: code, message: message, wakeAt: wake, at: now))
                options.observer?(.runStatus(runID, status, errorCode: code, message: message, wakeAt: wake))
            case .stepStatus(let i, let status, let code, let message):
                let instance = scheduler.instances[i]
                staged.changes.append(.stepStatus(instance.name, status, attempts: instance.attempts,
                                                  serial: instance.serial, retryAt: instance.retryAt, errorCode: code,
                                                  message: message, at: now))
                options.observer?(.stepStatus(instance.name, status, attempt: instance.attempts, errorCode: code,
                                              message: message, at: now))
            case .launch(let request):
                staged.launches.append(request)
            case .terminate(let i, let serial, _):
                staged.terminations.append((i, serial))
            case .setTimer(let key, let date):
                if case .timeout = key {
                    // Counted from the process's start (which a held launch has not had yet).
                    staged.stepTimeouts[key] = steady.delay(until: date)
                } else {
                    schedule(key, after: steady.delay(until: date))
                }
            case .attemptEnded(let i, let serial, let end, let code, let message, let counted):
                stageEnd(scheduler.instances[i].name, i, serial: serial, end: end, code: code, message: message,
                         counted: counted, at: now)
            case .outputs(let i, let values):
                staged.changes.append(.outputs(scheduler.instances[i].name, values))
            }
        }
    }

    private func stageEnd(_ name: StepName, _ i: Int, serial: Int, end: AttemptEnd, code: String?, message: String?,
                          counted: Bool, at now: Date) {
        // The last progress line the step wrote, recorded before its end (in the writer:
        // looking for a file the step most likely never wrote is not for the critical path).
        if let attempt = running[i], !attempt.progressPath.isEmpty {
            let observer = options.observer, masker = context?.masker ?? SecretMasker([])
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
        staged.changes.append(.attemptFinished(name, serial: serial, end: end, errorCode: code, message: message,
                                               counted: counted, at: now))
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
        var work = staged
        staged = StagedWork()
        // Kept across commits (only a launch removes its timeout), held by `staged` alone.
        swap(&staged.stepTimeouts, &work.stepTimeouts)
        var launches = launchable(&work)
        let now = clock.now()
        // A log folder removed meanwhile is made again before anything is started into it.
        if !launches.isEmpty && clock.elapsed(since: logFolder.seenAt) > 0.1 { ensureLogDirectory() }
        if !(try journal(launches, at: now)) {
            staged.held += launches
            launches = []
        }
        for request in launches {
            work.changes.append(.attemptStarted(start(request, now: now)))
            let timeout = RunScheduler.TimerKey.timeout(instance: request.instance, serial: request.serial)
            if let delay = staged.stepTimeouts.removeValue(forKey: timeout) { schedule(timeout, after: delay) }
        }
        try writer.submit(work.changes, of: runID)
        for (i, serial) in work.terminations {
            if let attempt = running[i], attempt.serial == serial, let pid = attempt.pid {
                launcher.terminate(pid, grace: options.killGrace)
            }
        }
    }

    /// The launches that may start now, held ones first. A held launch asked to stop (cancel,
    /// timeout) never starts: it ends as killed would. The rest are held again while the
    /// writer says the run may not launch.
    private func launchable(_ work: inout StagedWork) -> [RunScheduler.LaunchRequest] {
        var launches = work.held + work.launches
        for (i, serial) in work.terminations {
            guard let index = launches.firstIndex(where: { $0.instance == i && $0.serial == serial }) else { continue }
            launches.remove(at: index)
            staged.stepTimeouts[.timeout(instance: i, serial: serial)] = nil
            inbox.yield(.scheduler(.attemptEnded(instance: i, serial: serial, AttemptEnd(.signalled(SIGTERM)),
                                                 outputs: [:])))
        }
        if !launches.isEmpty && !writer.canLaunch(runID) {
            staged.held = launches
            return []
        }
        return launches
    }

    /// Appends the launches to the launch journal; false when it cannot be written: they are
    /// not launched then, but held and tried again shortly (a full disk may clear), for as
    /// long as the store itself would be waited for.
    private func journal(_ launches: [RunScheduler.LaunchRequest], at now: Date) throws -> Bool {
        do {
            try logFolder.journal.append(launches.map {
                LaunchJournal.Entry(name: $0.name, serial: $0.serial, attempt: $0.attempt, at: now)
            })
            if logFolder.journalFailingSince != nil {
                logFolder.journalFailingSince = nil
                options.observer?(.storeWaiting(nil, patience: options.storePatience))
            }
            return true
        } catch {
            let since = logFolder.journalFailingSince ?? clock.monotonic()
            if logFolder.journalFailingSince == nil {
                options.observer?(.storeWaiting("\(error)", patience: options.storePatience))
            }
            logFolder.journalFailingSince = since
            let waited = clock.elapsed(since: since)
            guard waited < options.storePatience else { throw StoreUnavailable(message: "\(error)", waited: waited) }
            let inbox = self.inbox
            _ = loop.schedule(after: 0.5) { inbox.yield(.store(.ready)) }
            return false
        }
    }

    func flush() throws {
        guard !staged.changes.isEmpty else { return }
        let changes = staged.changes
        staged.changes.removeAll()
        try writer.submit(changes, of: runID)
    }

    /// A timer of the scheduler, `delay` seconds from now on the loop's clock.
    func schedule(_ key: RunScheduler.TimerKey, after delay: Double) {
        if let old = timers.scheduler[key] { loop.cancelTimer(old) }
        let inbox = self.inbox
        timers.scheduler[key] = loop.schedule(after: delay) { inbox.yield(.scheduler(.timer(key))) }
    }
}
