import FoundationEssentials

extension RunScheduler {
    /// What a stored step looked like when the runner stopped.
    public struct StoredInstance: Sendable {
        public var name: StepName
        public var status: StepStatus
        public var attempts: Int
        public var serial: Int
        public var retryAt: Date?
        public var errorCode: String?
        public var errorMessage: String?
        public var outputs: [String: String]

        public init(name: StepName, status: StepStatus, attempts: Int, serial: Int, retryAt: Date?, errorCode: String?,
                    errorMessage: String?, outputs: [String: String]) {
            self.name = name
            self.status = status
            self.attempts = attempts
            self.serial = serial
            self.retryAt = retryAt
            self.errorCode = errorCode
            self.errorMessage = errorMessage
            self.outputs = outputs
        }
    }

    public struct RestoreError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Rebuilds a run from its stored state and continues it. Steps recorded as finished stay
    /// finished (never run again); attempts that were in flight are returned: the engine
    /// kills what is left of them and reports them `.interrupted`, which re-runs them without
    /// spending an attempt.
    public mutating func restore(runStatus stored: RunStatus, errorCode: String?, errorMessage: String?,
                                 steps: [StoredInstance],
                                 now: Date) throws -> (actions: [Action], inFlight: [(instance: Int, serial: Int)]) {
        runStatus = stored
        runErrorCode = errorCode
        runErrorMessage = errorMessage
        let inFlight = try restoreSteps(steps, runStatus: stored)
        replayFinished(runStatus: stored, now: now)
        // Steps that never started although nothing held them back (the runner died between
        // its first launches and their commit, so the store has nothing of them) start now.
        startPhase(.main)
        if runStatus == .queued { transitionRun(to: .running) }
        return (takeActions(), inFlight)
    }

    /// Each stored step's state; returns the attempts that were in flight.
    private mutating func restoreSteps(_ steps: [StoredInstance], runStatus stored: RunStatus) throws -> [(Int, Int)] {
        let byName = Dictionary(instances.map { ($0.name, $0.index) }, uniquingKeysWith: { a, _ in a })
        var inFlight: [(Int, Int)] = []
        for record in steps {
            guard let i = byName[record.name] else {
                throw RestoreError(description: "the stored run has a step '\(record.name)' that its pipeline does not define")
            }
            instances[i].status = record.status
            instances[i].attempts = record.attempts
            instances[i].serial = record.serial
            instances[i].errorCode = record.errorCode
            instances[i].errorMessage = record.errorMessage
            instances[i].outputs = record.outputs
            if record.status == .running {
                running += 1
                inFlight.append((i, record.serial))
            }
            if record.status == .queued, let at = record.retryAt {
                instances[i].retryAt = at
                instances[i].isDeferred = stored == .waiting
                if stored == .waiting { deferred.insert(i) }
            }
        }
        return inFlight
    }

    /// Replays what had finished, in execution order, so every counter and rule (commit point,
    /// failures, rollback, stage barriers) is where it was; a queued step whose turn had come
    /// is ready again, or waits for its retry's time.
    private mutating func replayFinished(runStatus stored: RunStatus, now: Date) {
        startedPhases = [.main]
        phase = .main
        let graph = pipeline.graph
        let order = [PipelineGraph.SectionKind.main, .rollback, .finally].flatMap { graph.executionOrder(of: $0) }
        for node in order
        where nodeInstances[node].contains(where: { instances[$0].status != .queued || instances[$0].attempts > 0 }) {
            nodeDecided[node] = true
        }
        for node in order {
            for i in nodeInstances[node] where instances[i].status.isTerminal { instanceTerminal(i) }
        }
        if stored == .rollbackPending { rollbackRan = true }
        for i in instances.indices where instances[i].status == .queued && nodeDecided[instances[i].node] {
            if let at = instances[i].retryAt, at > now {
                actions.append(.setTimer(.retry(instance: i), at: at))
            } else {
                instances[i].retryAt = nil
                deferred.remove(i)
                makeReady(i)
            }
        }
    }

    /// Continues after `restore` once the in-flight attempts were dealt with.
    public mutating func resume(now: Date) -> [Action] {
        advance(now: now)
        return takeActions()
    }
}
