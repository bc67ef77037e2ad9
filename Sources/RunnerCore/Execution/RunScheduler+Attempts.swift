import FoundationEssentials

extension RunScheduler {
    mutating func attemptEnded(_ i: Int, serial: Int, end: AttemptEnd, outputs: [String: String], now: Date) {
        guard instances[i].status == .running, instances[i].serial == serial else { return }
        running -= 1
        let termination = instances[i].termination
        instances[i].termination = nil
        if termination == .cancel || (isCancelRequested && isStopped(for: instances[i].node)) {
            actions.append(.attemptEnded(instance: i, serial: serial, end: end, errorCode: nil, message: "cancelled",
                                         counted: true))
            setStatus(i, .cancelled, message: "cancelled")
            instanceTerminal(i)
            return
        }
        if end.isSuccess {
            instances[i].outputs = outputs
            if !outputs.isEmpty { actions.append(.outputs(instance: i, outputs)) }
            actions.append(.attemptEnded(instance: i, serial: serial, end: end, errorCode: nil, message: nil,
                                         counted: true))
            setStatus(i, .succeeded)
            instanceTerminal(i)
            return
        }
        if end.reason == .interrupted {
            // Not the step's failure: run it again without spending an attempt.
            instances[i].attempts -= 1
            actions.append(.attemptEnded(instance: i, serial: serial, end: end, errorCode: "RUNNER_INTERRUPTED",
                                         message: ErrorClassifier.describe(end), counted: false))
            setStatus(i, .queued, message: "requeued: the runner stopped during the attempt")
            makeReady(i)
            return
        }
        attemptFailed(i, serial: serial, end: end, timedOut: termination == .timeout, now: now)
    }

    /// A failed attempt, classified by the step's policy: tried again (after its backoff, or
    /// at its deferral's time) while attempts are left and nothing stops the step; else the
    /// step fails.
    private mutating func attemptFailed(_ i: Int, serial: Int, end: AttemptEnd, timedOut: Bool, now: Date) {
        var effective = end
        if timedOut { effective.reason = .timedOut }
        let verdict = ErrorClassifier.classify(effective, policy: policies[instances[i].node])
        actions.append(.attemptEnded(instance: i, serial: serial, end: effective, errorCode: verdict.code,
                                     message: verdict.message, counted: true))
        guard instances[i].attempts < verdict.retry.attempts, !isStopped(for: instances[i].node) else {
            setStatus(i, .failed, code: verdict.code, message: verdict.message)
            instanceTerminal(i)
            return
        }
        let retryAt: Date
        if let deferral = verdict.retry.deferral {
            guard let wake = RetryMath.wakeTime(for: deferral, after: now) else {
                setStatus(i, .failed, code: verdict.code, message: verdict.message)
                instanceTerminal(i)
                return
            }
            retryAt = wake
            instances[i].isDeferred = true
            deferred.insert(i)
        } else {
            let delay = RetryMath.delay(beforeRetry: instances[i].attempts, backoff: verdict.retry.backoff, using: &random)
            retryAt = now.addingTimeInterval(Self.seconds(delay))
        }
        instances[i].retryAt = retryAt
        let next = "attempt \(instances[i].attempts + 1) of \(verdict.retry.attempts) at \(Self.timestamp(retryAt))"
        setStatus(i, .queued, code: verdict.code, message: "\(verdict.message); \(next)")
        actions.append(.setTimer(.retry(instance: i), at: retryAt))
    }

    static func timestamp(_ date: Date) -> String { Timestamp.format(date) }

    /// Cancel: running steps are terminated, nothing new starts; finally steps still run. A
    /// second cancel during finally stops those too. Cancelling never starts a rollback.
    mutating func requestCancel() {
        if isCancelRequested {
            guard phase == .finally, !cancelledFinally else { return }
            cancelledFinally = true
        }
        isCancelRequested = true
        if runErrorMessage == nil { runErrorMessage = "cancelled" }
        for i in instances.indices where !instances[i].status.isTerminal {
            guard isStopped(for: instances[i].node) else { continue }
            switch instances[i].status {
            case .running:
                if instances[i].termination == nil {
                    instances[i].termination = .cancel
                    actions.append(.terminate(instance: i, serial: instances[i].serial, reason: .cancel))
                }
            case .queued where nodeDecided[instances[i].node]:
                deferred.remove(i)
                setStatus(i, .cancelled, message: "cancelled")
                instanceTerminal(i)
            default:
                break
            }
        }
        let graph = pipeline.graph
        for node in graph.nodes.indices where !nodeDecided[node] && isStopped(for: node)
            && startedPhases.contains(Self.phase(of: graph.nodes[node].section)) && pendingPredecessors[node] == 0 {
            decide(node)
        }
    }

    /// After an unexcused failure past the commit point: no new main steps.
    mutating func stopMain(reason: String) {
        for i in instances.indices where instances[i].status == .queued && Self.phase(of: pipeline.steps[instances[i].node].section) == .main
            && nodeDecided[instances[i].node] {
            deferred.remove(i)
            setStatus(i, .skipped, message: reason)
            instanceTerminal(i)
        }
    }

    /// All phases are over: the run's final status and error.
    mutating func finish() {
        let status: RunStatus
        if isCancelRequested {
            status = .cancelled
            runErrorCode = firstFailure?.code
        } else if rollbackRan {
            status = rollbackFailed ? .failed : .rolledBack
            runErrorCode = firstFailure?.code
            runErrorMessage = firstFailure?.message
            if rollbackFailed, let rollback = firstRollbackFailure {
                runErrorMessage = "\(firstFailure?.message ?? "failed"); rollback failed: \(rollback.code): \(rollback.message)"
            }
        } else if let failure = firstFailure {
            status = .failed
            runErrorCode = failure.code
            runErrorMessage = failure.message
        } else if let failure = finallyFailure {
            status = .failed
            runErrorCode = failure.code
            runErrorMessage = "finally step failed: \(failure.message)"
        } else {
            status = hasExcusedFailure ? .partial : .succeeded
        }
        if runStatus == .waiting { transitionRun(to: .running) }
        transitionRun(to: status)
    }
}
