import FoundationEssentials

extension RunScheduler {
    /// Moves the run as far as it can go now: decides nodes, launches, changes phase.
    mutating func advance(now: Date) {
        if phase == .main && !startedPhases.contains(.main) {
            startPhase(.main)
        }
        while true {
            launchReady(now: now)
            guard running == 0, phaseUnfinished[phase.rawValue] == 0 else { break }
            guard nextPhase() else { break }
        }
        updateWaiting()
    }

    /// Opens a phase: its nodes without unfinished predecessors are decided.
    mutating func startPhase(_ phase: Phase) {
        startedPhases.insert(phase)
        self.phase = phase
        let graph = pipeline.graph
        for node in graph.nodes.indices where Self.phase(of: graph.nodes[node].section) == phase && pendingPredecessors[node] == 0 {
            decide(node)
        }
    }

    /// Main → rollback (when needed) → finally → done. False when the run finished.
    mutating func nextPhase() -> Bool {
        switch phase {
        case .main:
            if needsRollback && !isCancelRequested {
                rollbackRan = true
                transitionRun(to: .rollbackPending)
                startPhase(.rollback)
                return true
            }
            skipPhase(.rollback, reason: isCancelRequested ? "the run was cancelled" : "no rollback was needed")
            startPhase(.finally)
            return true
        case .rollback:
            startPhase(.finally)
            return true
        case .finally:
            phase = .done
            finish()
            return false
        case .done:
            return false
        }
    }

    /// The nodes of a phase that will not run become terminal without instances running.
    mutating func skipPhase(_ skipped: Phase, reason: String) {
        let graph = pipeline.graph
        for node in graph.nodes.indices where Self.phase(of: graph.nodes[node].section) == skipped && !nodeDecided[node] {
            nodeDecided[node] = true
            for i in nodeInstances[node] {
                setStatus(i, .skipped, message: "skipped: \(reason)")
                instanceTerminal(i)
            }
            if nodeInstances[node].isEmpty { nodeTerminal(node) }
        }
    }

    // MARK: - Deciding

    /// A node whose predecessors have all finished: skip it, or make its instances ready.
    mutating func decide(_ node: Int) {
        guard !nodeDecided[node] else { return }
        nodeDecided[node] = true
        let step = pipeline.steps[node]
        if isStopped(for: node) {
            let status: StepStatus = isCancelRequested ? .cancelled : .skipped
            let reason = isCancelRequested ? "cancelled: the run was cancelled" : "skipped: a step failed after the commit point; rolling back"
            endWithoutRunning(node, status, reason)
            return
        }
        let blockers = blockingPredecessors(of: node)
        if !blockers.isEmpty && !blockers.allSatisfy({ statusReads[node].contains($0) }) {
            let names = blockers.map { "'\(pipeline.steps[$0].name.value)' \(nodeStatus($0)?.rawValue ?? "did not run")" }
            endWithoutRunning(node, .skipped, "skipped: " + names.joined(separator: ", "))
            return
        }
        if let condition = step.condition,
           !ExpressionEvaluator.isTrue(ExpressionEvaluator.evaluate(condition.root, in: evaluationContext(for: condition))) {
            endWithoutRunning(node, .skipped, "skipped: `if` is false (\(condition.text))")
            return
        }
        if nodeInstances[node].isEmpty {
            nodeSkipReason[node] = "for_each has no items"
            nodeTerminal(node)
            return
        }
        for i in nodeInstances[node] { makeReady(i) }
    }

    func isStopped(for node: Int) -> Bool {
        let nodePhase = Self.phase(of: pipeline.graph.nodes[node].section)
        if isCancelRequested { return nodePhase == .main || nodePhase == .rollback || cancelledFinally }
        return nodePhase == .main && needsRollback
    }

    mutating func endWithoutRunning(_ node: Int, _ status: StepStatus, _ reason: String) {
        nodeSkipReason[node] = reason
        for i in nodeInstances[node] where !instances[i].status.isTerminal {
            setStatus(i, status, message: reason)
            instanceTerminal(i)
        }
        if nodeInstances[node].isEmpty { nodeTerminal(node) }
    }

    /// Needs that failed, were cancelled or skipped, and earlier stages' unexcused failures.
    func blockingPredecessors(of node: Int) -> [Int] {
        var result: [Int] = []
        for need in pipeline.graph.nodes[node].needs where need != node {
            if let status = nodeStatus(need), status != .succeeded, !isExcused(need) { result.append(need) }
        }
        if let stage = stageOfNode[node] {
            for blocker in stageBlockers where blocker.stage < stage && !result.contains(blocker.node) { result.append(blocker.node) }
        }
        return result
    }

    func evaluationContext(for expression: ParsedExpression) -> EvaluationContext {
        var context = EvaluationContext(params: params, env: environment)
        for entry in pipeline.pipeline.env { context.env[entry.name.value] = entry.resolved(in: environment) ?? "" }
        for (reference, _) in expression.root.references {
            guard let name = reference.stepName, let node = pipeline.graph.indexByName[name] else { continue }
            if let status = nodeStatus(node) { context.stepStatuses[name] = status }
            if nodeInstances[node].count == 1, pipeline.steps[node].forEach == nil {
                context.stepOutputs[name] = instances[nodeInstances[node][0]].outputs
            }
        }
        return context
    }

    // MARK: - Node and instance states

    /// The status of a node that has finished, from its instances; nil while it runs.
    public func nodeStatus(_ node: Int) -> StepStatus? {
        guard nodeIsTerminal[node] else { return nil }
        return StepStatus.combined(nodeInstances[node].lazy.map { instances[$0].status })
    }

    /// A failure dependents may ignore: `continue_on_error`, or `allow_partial` with some
    /// instances succeeded.
    func isExcused(_ node: Int) -> Bool {
        guard nodeStatus(node) == .failed else { return false }
        let step = pipeline.steps[node]
        if step.continuesOnError { return true }
        return step.allowsPartial && nodeInstances[node].contains { instances[$0].status == .succeeded }
    }

    mutating func makeReady(_ instance: Int) {
        guard !instances[instance].isReady else { return }
        instances[instance].isReady = true
        readyQueue.append(instance)
    }

    mutating func instanceTerminal(_ instance: Int) {
        let node = instances[instance].node
        unfinishedInstances[node] -= 1
        if unfinishedInstances[node] == 0 { nodeTerminal(node) }
    }

    /// A node finished: record its effect on the run and release what waited for it.
    mutating func nodeTerminal(_ node: Int) {
        guard !nodeIsTerminal[node] else { return }
        nodeIsTerminal[node] = true
        nodeDecided[node] = true
        let step = pipeline.steps[node]
        let nodePhase = Self.phase(of: step.section)
        let status = nodeStatus(node) ?? .skipped
        if status == .succeeded {
            if step.isCommitPoint && nodePhase == .main { commitPassed = true }
            if !step.outputs.isEmpty && step.forEach == nil { producers.append(node) }
        } else if status == .failed {
            recordFailure(of: node, phase: nodePhase)
        } else if status == .cancelled, let stage = stageOfNode[node] {
            stageBlockers.append((node, stage))
        }
        phaseUnfinished[nodePhase.rawValue] -= 1
        for dependent in dependents[node] { release(dependent) }
        if let stage = stageOfNode[node] {
            stageUnfinished[stage] -= 1
            if stageUnfinished[stage] == 0, let next = nextStage(after: stage) {
                for member in pipeline.graph.stageMembers[next] { release(member) }
            }
        }
    }

    mutating func recordFailure(of node: Int, phase nodePhase: Phase) {
        let failed = nodeInstances[node].map { instances[$0] }.first { $0.status == .failed }
        let failure = (code: failed?.errorCode ?? StepPolicy.fallbackCode, message: failed?.errorMessage ?? "failed")
        if isExcused(node) {
            hasExcusedFailure = true
            return
        }
        switch nodePhase {
        case .main:
            if firstFailure == nil { firstFailure = failure }
            if let stage = stageOfNode[node] { stageBlockers.append((node, stage)) }
            if commitPassed && !pipeline.pipeline.rollback.isEmpty && !needsRollback {
                needsRollback = true
                stopMain(reason: "skipped: a step failed after the commit point; rolling back")
            }
        case .rollback:
            rollbackFailed = true
            if firstRollbackFailure == nil { firstRollbackFailure = failure }
        case .finally:
            if finallyFailure == nil { finallyFailure = failure }
        case .done:
            break
        }
    }

    mutating func release(_ node: Int) {
        pendingPredecessors[node] -= 1
        if pendingPredecessors[node] == 0, startedPhases.contains(Self.phase(of: pipeline.graph.nodes[node].section)) {
            decide(node)
        }
    }

    func nextStage(after stage: Int) -> Int? {
        var next = stage + 1
        while next < pipeline.graph.stageMembers.count, pipeline.graph.stageMembers[next].isEmpty { next += 1 }
        return next < pipeline.graph.stageMembers.count ? next : nil
    }

    // MARK: - Launching

    mutating func launchReady(now: Date) {
        while running < configuration.parallelism, readyHead < readyQueue.count {
            let i = readyQueue[readyHead]
            readyHead += 1
            instances[i].isReady = false
            guard instances[i].status == .queued else { continue }
            if let at = instances[i].retryAt, at > now { continue }
            launch(i, now: now)
        }
        if readyHead > 4096, readyHead * 2 > readyQueue.count {
            readyQueue.removeFirst(readyHead)
            readyHead = 0
        }
    }

    mutating func launch(_ i: Int, now: Date) {
        if runStatus == .waiting { transitionRun(to: .running) }
        deferred.remove(i)
        let node = instances[i].node
        instances[i].attempts += 1
        instances[i].serial += 1
        instances[i].retryAt = nil
        setStatus(i, .running)
        running += 1
        let policy = policies[node]
        var visible: [(step: String, key: String, value: String)] = []
        for producer in producers where pipeline.graph.canRead(node, producer) {
            let name = pipeline.steps[producer].name.value
            for (key, value) in instances[nodeInstances[producer][0]].outputs.sorted(by: { $0.key < $1.key }) {
                visible.append((name, key, value))
            }
        }
        actions.append(.launch(LaunchRequest(instance: i, node: node, name: instances[i].name, item: instances[i].item,
                                             attempt: instances[i].attempts, serial: instances[i].serial,
                                             policy: policy, visibleOutputs: visible)))
        if let timeout = policy.timeout {
            actions.append(.setTimer(.timeout(instance: i, serial: instances[i].serial), at: now.addingTimeInterval(Self.seconds(timeout))))
        }
    }

    static func seconds(_ d: Duration) -> TimeInterval {
        let (s, atto) = d.components
        return TimeInterval(s) + TimeInterval(atto) / 1e18
    }

    /// Nothing runs and nothing can start before a deferred retry: the run waits.
    mutating func updateWaiting() {
        guard !deferred.isEmpty, running == 0, !runStatus.isTerminal, phase == .main || phase == .finally,
              !readyQueue[readyHead...].contains(where: { instances[$0].status == .queued && instances[$0].retryAt == nil })
        else { return }
        transitionRun(to: .waiting, wakeAt: deferred.compactMap { instances[$0].retryAt }.min())
    }
}
