import FoundationEssentials

/// Decides what a run does next, as a pure state machine: events in (an attempt ended, a
/// timer fired, cancel), actions out (launch, terminate, set a timer, record a status).
/// No I/O and no clock of its own: the engine drives it, tests drive it with synthetic
/// events and a fixed time (ninja's `Plan` plays the same part).
///
/// Rules it implements (README, "Execution"):
/// - steps of a stage start when the previous stage has finished; `needs` orders a stage;
/// - a step whose `needs` include a failed, cancelled or skipped step is skipped, and every
///   step after a stage with an unexcused failure is skipped, unless the step's `if` reads
///   the status of each such step (then the `if` decides);
/// - a failure is excused by `continue_on_error`, or by `allow_partial` when some instances
///   of a for_each step succeeded: dependents run and the run ends `partial`;
/// - after a `commit_point` succeeded, an unexcused failure stops new main steps and runs the
///   rollback steps; `finally` steps always run last;
/// - retries follow the error class of each failure; deferred retries put the run `waiting`;
/// - an attempt interrupted by the runner's own death does not count against `attempts`.
public struct RunScheduler: Sendable {
    public struct Configuration: Sendable {
        public var parallelism: Int
        public var seed: UInt64

        public init(parallelism: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) {
            self.parallelism = max(1, parallelism)
            self.seed = seed
        }
    }

    public enum TerminationReason: String, Sendable {
        case timeout, cancel
    }

    public enum TimerKey: Hashable, Sendable {
        /// A retry's delay or deferral ended.
        case retry(instance: Int)
        /// An attempt reached the step timeout.
        case timeout(instance: Int, serial: Int)
    }

    public struct Instance: Sendable {
        public let index: Int
        public let node: Int
        public let name: StepName
        public let item: String?
        public internal(set) var status: StepStatus = .queued
        /// Attempts that count against the retry policy.
        public internal(set) var attempts = 0
        /// Every attempt started, interrupted ones included: numbers logs and records.
        public internal(set) var serial = 0
        public internal(set) var retryAt: Date?
        public internal(set) var isDeferred = false
        public internal(set) var errorCode: String?
        public internal(set) var errorMessage: String?
        public internal(set) var outputs: [String: String] = [:]
        var termination: TerminationReason?
        var isReady = false
    }

    public struct LaunchRequest: Sendable {
        public var instance: Int
        public var node: Int
        public var name: StepName
        public var item: String?
        /// Counted attempt number (1-based) and the serial number of this attempt.
        public var attempt: Int
        public var serial: Int
        public var policy: StepPolicy
        /// Outputs of the steps this one depends on: `STEP_<STEP>_<KEY>`.
        public var visibleOutputs: [(step: String, key: String, value: String)]
    }

    public enum Action: Sendable {
        case runStatus(RunStatus, errorCode: String?, message: String?, wakeAt: Date?)
        case stepStatus(instance: Int, StepStatus, errorCode: String?, message: String?)
        case launch(LaunchRequest)
        case terminate(instance: Int, serial: Int, reason: TerminationReason)
        case setTimer(TimerKey, at: Date)
        case attemptEnded(instance: Int, serial: Int, end: AttemptEnd, errorCode: String?, message: String?, counted: Bool)
        case outputs(instance: Int, [String: String])
    }

    public enum Event: Sendable {
        case attemptEnded(instance: Int, serial: Int, AttemptEnd, outputs: [String: String])
        case timer(TimerKey)
        case cancel
    }

    enum Phase: Int, Sendable { case main, rollback, finally, done }

    public let pipeline: ValidatedPipeline
    public let configuration: Configuration
    let params: [String: Value]
    let environment: [String: String]
    let policies: [StepPolicy]
    /// Explicit `needs` and previous-stage members, per node.
    let stageOfNode: [Int?]
    public internal(set) var instances: [Instance] = []
    var nodeInstances: [[Int]]
    var nodeDecided: [Bool]
    var nodeSkipReason: [String?]
    public internal(set) var runStatus: RunStatus = .queued
    public internal(set) var runErrorCode: String?
    public internal(set) var runErrorMessage: String?
    var phase: Phase = .main
    var running = 0
    var isCancelRequested = false
    var isStopped = false
    var commitPassed = false
    var needsRollback = false
    var firstFailure: (code: String, message: String)?
    var hasExcusedFailure = false
    var random: SplitMix64
    var actions: [Action] = []

    // Bookkeeping that keeps each event O(what it touches), not O(steps).
    /// Predecessors of each node not yet terminal (needs, plus 1 for the stage barrier).
    var pendingPredecessors: [Int]
    var dependents: [[Int]]
    var unfinishedInstances: [Int]
    var nodeIsTerminal: [Bool]
    var stageUnfinished: [Int]
    /// Nodes with an unexcused failure or a cancellation, with their stage: later stages skip.
    var stageBlockers: [(node: Int, stage: Int)] = []
    var phaseUnfinished: [Int]
    var readyQueue: [Int] = []
    var readyHead = 0
    var producers: [Int] = []
    var rollbackRan = false
    var rollbackFailed = false
    var finallyFailure: (code: String, message: String)?
    var firstRollbackFailure: (code: String, message: String)?
    var startedPhases: Set<Phase> = []
    var cancelledFinally = false
    /// Instances queued for a deferred retry (the run may go `waiting`).
    var deferred: Set<Int> = []
    let statusReads: [Set<Int>]

    public init(pipeline: ValidatedPipeline, params: [String: Value], environment: [String: String] = [:],
                configuration: Configuration) {
        self.pipeline = pipeline
        self.configuration = configuration
        self.params = params
        self.environment = environment
        self.random = SplitMix64(seed: configuration.seed)
        let steps = pipeline.steps
        policies = steps.map { StepPolicy(step: $0, pipeline: pipeline.pipeline) }
        stageOfNode = pipeline.graph.nodes.indices.map { pipeline.graph.stage(of: $0) }
        nodeInstances = Array(repeating: [], count: steps.count)
        nodeDecided = Array(repeating: false, count: steps.count)
        nodeSkipReason = Array(repeating: nil, count: steps.count)
        nodeIsTerminal = Array(repeating: false, count: steps.count)
        let graph = pipeline.graph
        var dependents = Array(repeating: [Int](), count: steps.count)
        var pending = Array(repeating: 0, count: steps.count)
        // Sized first: a step may be needed by the 100 of the next layer (90,000 edges in all).
        var dependentCounts = Array(repeating: 0, count: steps.count)
        for (node, info) in graph.nodes.enumerated() { for need in info.needs where need != node { dependentCounts[need] += 1 } }
        for (node, count) in dependentCounts.enumerated() where count > 0 { dependents[node].reserveCapacity(count) }
        for (node, info) in graph.nodes.enumerated() {
            for need in info.needs where need != node {
                dependents[need].append(node)
                pending[node] += 1
            }
            if let stage = graph.stage(of: node), Self.previousStage(before: stage, in: graph) != nil { pending[node] += 1 }
        }
        self.dependents = dependents
        self.pendingPredecessors = pending
        stageUnfinished = graph.stageMembers.map(\.count)
        phaseUnfinished = [0, 0, 0, 0]
        for info in graph.nodes { phaseUnfinished[Self.phase(of: info.section).rawValue] += 1 }
        statusReads = steps.map { step in
            Set(step.condition?.root.references.compactMap { ref -> Int? in
                if case .stepStatus(let name) = ref.reference { return graph.indexByName[name] }
                return nil
            } ?? [])
        }
        instances = Self.instances(of: pipeline, params: params)
        for instance in instances { nodeInstances[instance.node].append(instance.index) }
        unfinishedInstances = nodeInstances.map(\.count)
    }

    /// The step instances of a run: one per step, or one per `for_each` item, in step order.
    public static func instances(of pipeline: ValidatedPipeline, params: [String: Value]) -> [Instance] {
        var instances: [Instance] = []
        instances.reserveCapacity(pipeline.steps.count)
        for (node, step) in pipeline.steps.enumerated() {
            for item in items(of: step, params: params) {
                let name = item.map { step.stepName.instance($0) } ?? step.stepName
                instances.append(Instance(index: instances.count, node: node, name: name, item: item))
            }
        }
        return instances
    }

    static func phase(of section: StepSection) -> Phase {
        switch section {
        case .main: .main
        case .rollback: .rollback
        case .finally: .finally
        }
    }

    /// The nearest earlier stage with steps: the barrier a stage waits for.
    static func previousStage(before stage: Int, in graph: PipelineGraph) -> Int? {
        var previous = stage - 1
        while previous >= 0, graph.stageMembers[previous].isEmpty { previous -= 1 }
        return previous >= 0 ? previous : nil
    }

    /// Items of a for_each step (params only, so known when the run is created); `[nil]`
    /// for a plain step. Repeated items are kept once: instance names must be unique.
    static func items(of step: Step, params: [String: Value]) -> [String?] {
        let values: [Value]
        switch step.forEach {
        case nil: return [nil]
        case .items(let located)?: values = located.map(\.value)
        case .expression(let e)?:
            guard case .list(let list) = ExpressionEvaluator.evaluate(e.root, in: EvaluationContext(params: params)) else { return [] }
            values = list
        }
        var seen = Set<String>()
        return values.compactMap(\.environmentText).filter { seen.insert($0).inserted }
    }

    // MARK: - Driving

    /// Starts the run: the first steps to launch, or the outcome if there is nothing to do.
    public mutating func start(now: Date) -> [Action] {
        transitionRun(to: .running)
        advance(now: now)
        return takeActions()
    }

    public mutating func handle(_ event: Event, now: Date) -> [Action] {
        guard runStatus.isTerminal == false else { return [] }
        switch event {
        case .attemptEnded(let instance, let serial, let end, let outputs):
            attemptEnded(instance, serial: serial, end: end, outputs: outputs, now: now)
        case .timer(.retry(let instance)):
            if instances[instance].status == .queued, let at = instances[instance].retryAt, at <= now {
                instances[instance].retryAt = nil
                instances[instance].isDeferred = false
                deferred.remove(instance)
                makeReady(instance)
            }
        case .timer(.timeout(let instance, let serial)):
            if instances[instance].status == .running, instances[instance].serial == serial, instances[instance].termination == nil {
                instances[instance].termination = .timeout
                actions.append(.terminate(instance: instance, serial: serial, reason: .timeout))
            }
        case .cancel:
            requestCancel()
        }
        advance(now: now)
        return takeActions()
    }

    public var isFinished: Bool { runStatus.isTerminal }

    mutating func takeActions() -> [Action] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    mutating func transitionRun(to status: RunStatus, wakeAt: Date? = nil) {
        guard runStatus != status, runStatus.canTransition(to: status) else { return }
        runStatus = status
        actions.append(.runStatus(status, errorCode: runErrorCode, message: runErrorMessage, wakeAt: wakeAt))
    }

    mutating func setStatus(_ instance: Int, _ status: StepStatus, code: String? = nil, message: String? = nil) {
        let current = instances[instance].status
        guard current != status || status == .queued, current.canTransition(to: status) || current == status else { return }
        instances[instance].status = status
        if let code { instances[instance].errorCode = code }
        if let message { instances[instance].errorMessage = message }
        actions.append(.stepStatus(instance: instance, status, errorCode: code, message: message))
    }
}

/// A small, seedable random source (SplitMix64): jitter is reproducible in tests.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
