import FoundationEssentials
import RunnerCore

/// The one launch path of every front door: check the params (`LaunchCheck`), resolve their
/// gitrefs, apply the pipeline's concurrency rule, record the run and audit the launch. The
/// caller's thread does it all (a few milliseconds of store and git); executing the run is
/// the front door's choice.
extension RunService {
    /// Launches a run as `request` asks. With an Idempotency-Key, the key is claimed first —
    /// before the params and the concurrency rule — and a request racing the first one with
    /// its key waits for that one's answer (`IdempotencyRequest.patience`).
    /// Throws `OperationFailure` when the store fails (the key or the run is not recorded).
    public func launch(_ request: LaunchRequest, at now: Date? = nil) throws -> LaunchOutcome {
        let now = now ?? clock.now()
        guard let key = request.idempotency else { return try admit(request, at: now) }
        return try launch(request, keyedBy: key, at: now)
    }

    /// Audits a launch the front door refused before asking the engine (the API's missing or
    /// malformed Idempotency-Key): `launch_invalid` with the answer's code.
    public func auditRefusal(_ request: LaunchRequest, code: String, at now: Date? = nil) {
        let now = now ?? clock.now()
        audit(request, action: "launch_invalid", code: code, params: request.auditedInputs, at: now)
    }

    /// Checks, records under the concurrency rule, audits.
    func admit(_ request: LaunchRequest, at now: Date) throws -> LaunchOutcome {
        let checked: LaunchCheck.Checked
        switch check(request) {
        case .success(let c): checked = c
        case .failure(let problems):
            let code = problems.diagnostics.first?.displayCode ?? DiagnosticCode.invalidParam.rawValue
            audit(request, action: "launch_invalid", code: code, params: request.auditedInputs, at: now)
            return .invalid(problems.diagnostics)
        }
        let outcome: LaunchOutcome
        do {
            outcome = try record(request, checked, at: now)
        } catch {
            throw OperationFailure(.recordingRun, error)
        }
        let shown = Self.shown(checked.params, of: request.pipeline.pipeline)
        switch outcome {
        case .accepted(let run), .skipped(let run, _):
            audit(request, action: "launch", run: run.id, params: shown, at: now)
        case .rejected(let active, let code):
            audit(request, action: "launch_rejected", code: code, run: active.id, params: shown, at: now)
        case .invalid, .replayed, .keyMismatch, .keyInFlight:
            break
        }
        return outcome
    }

    private func check(_ request: LaunchRequest) -> Result<LaunchCheck.Checked, LaunchCheck.Problems> {
        if let unreadable = request.unreadable { return .failure(LaunchCheck.Problems(diagnostics: [unreadable])) }
        switch request.params {
        case .checked(let checked):
            return .success(checked)
        case .given(let inputs):
            return LaunchCheck.check(inputs, for: request.pipeline.pipeline, pipelineFile: request.pipeline.file,
                                     repositories: request.repositories, actor: request.runActor,
                                     environment: environment, git: git)
        }
    }

    /// The run's records, created under the pipeline's concurrency rule: reject and skip answer
    /// now; queue and cancel_running runs are recorded at once and wait in their executor, so
    /// no front door blocks here.
    private func record(_ request: LaunchRequest, _ checked: LaunchCheck.Checked,
                        at now: Date) throws -> LaunchOutcome {
        let loaded = request.pipeline
        var random = SystemRandomNumberGenerator()
        var (run, steps) = RunCreation.records(id: RunID.generate(at: now, using: &random), pipeline: loaded.pipeline,
                                               definition: loaded.definition, file: loaded.file, params: checked.params,
                                               trigger: request.trigger, parallelism: request.parallelism, at: now)
        run.refs = checked.refs
        run.triggerDetail = request.triggerDetail
        run.actor = request.runActor
        if let key = request.idempotency {
            // The run remembers its key: a key left in flight by a crash is settled from it.
            run.triggerDetail[RunRecord.idempotencyKeyDetail] = key.key
            run.triggerDetail[RunRecord.idempotencyScopeDetail] = key.scope
        }
        run.params = try secretBox.seal(run.params, names: run.secretParams ?? [])
        let policy = loaded.pipeline.pipeline.concurrency
        guard let active = try create(run, steps: steps, policy: policy) else {
            remember(run)
            return .accepted(Self.withoutDefinition(run))
        }
        guard policy?.onConflict == .skip, let group = run.concurrencyGroup else {
            return .rejected(active: active, code: policy?.errorCode?.value ?? ConcurrencyPolicy.defaultErrorCode)
        }
        run.status = .skipped
        run.errorMessage = "skipped: run \(active.id) of group \(group) is \(active.status.rawValue)"
        try store.createRun(run, steps: steps.map { var s = $0; s.status = .skipped; return s })
        return .skipped(Self.withoutDefinition(run), active: active)
    }

    /// Records a new run under its pipeline's concurrency rule: nil when it was recorded, else
    /// the unfinished run of its group that `reject` and `skip` yield to (nothing recorded).
    func create(_ run: RunRecord, steps: [StepRecord], policy: ConcurrencyPolicy?) throws -> RunRecord? {
        guard let group = run.concurrencyGroup, let policy,
              policy.onConflict == .reject || policy.onConflict == .skip else {
            try store.createRun(run, steps: steps)
            return nil
        }
        return try store.createRun(run, steps: steps, unlessActiveIn: group)
    }

    /// One audit entry for the request's actor (none when the request is not audited). A
    /// failure to record is not the caller's problem: the action stands.
    func audit(_ request: LaunchRequest, action: String, code: String? = nil, run: RunID? = nil,
               params: [String: Value], at now: Date) {
        guard let context = request.audit else { return }
        audit(action, code: code, run: run, pipeline: request.pipeline.name, params: params, by: context, at: now)
    }

    func audit(_ action: String, code: String? = nil, run: RunID?, pipeline: String, params: [String: Value],
               by context: AuditContext, at now: Date) {
        try? store.appendAudit(AuditRecord(at: now, action: action, runID: run, pipeline: pipeline,
                                           actor: context.actor, params: params, traceID: context.traceID, code: code))
    }

    /// Checked params as they may be shown: secret ones as `***`.
    static func shown(_ params: [String: Value], of pipeline: ValidatedPipeline) -> [String: Value] {
        let secrets = Set(pipeline.pipeline.params.filter(\.isSecret).map(\.name.value))
        return params.reduce(into: [:]) { $0[$1.key] = secrets.contains($1.key) ? .string("***") : $1.value }
    }

    static func withoutDefinition(_ run: RunRecord) -> RunRecord {
        var run = run
        run.definition = ""
        return run
    }
}
