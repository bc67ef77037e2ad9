import RunnerTestSupport
import Testing
import RunnerCore
@testable import RunnerYAML

@Suite struct PipelineDecoderTests {
    func load(_ text: String) -> PipelineLoader.Result {
        PipelineLoader.load(bytes: Array(text.utf8), file: "p.yaml")
    }

    func codes(_ text: String) -> [DiagnosticCode] { load(text).diagnostics.map(\.code) }

    @Test func decodesTheWholeModel() throws {
        let result = load("""
        version: 1
        name: demo
        params:
          ref: {type: gitref, required: true, error: INVALID_TARGET_REF}
          kinds: {type: list, items: {type: enum, values: [a, b]}, min_items: 1, unique: true}
        concurrency: {on_conflict: queue}
        idempotency: {required: true, ttl: 12h}
        errors:
          - {exit_codes: [75, 76], code: LIMIT, retry: {attempts: 4, backoff: {initial: 500ms, factor: 3, max: 10s, jitter: full}}}
          - {exit_codes: 77, code: QUOTA, retry: {at: next_day_utc}}
        stages:
          - name: one
            steps:
              - {name: a, run: echo a, outputs: [x], retry: 3, timeout: 1h30m}
          - name: two
            steps:
              - name: b
                needs: a
                if: steps.a.outputs.x == "1"
                for_each: params.kinds
                allow_partial: true
                shell: [bash, -eu, -c]
                run: echo $ITEM
        rollback: {steps: [{name: undo, run: echo undo}]}
        finally: {steps: [{name: tidy, run: echo tidy}]}
        """)
        let v = try #require(result.pipeline, "\(result.diagnostics.map(\.message))")
        let p = v.pipeline
        #expect(p.params.map(\.name.value) == ["ref", "kinds"])
        #expect(p.params[1].kind == .list(.init(items: .enumeration(values: ["a", "b"]), minItems: 1, isUnique: true)))
        #expect(p.concurrency?.onConflict == .queue)
        #expect(p.idempotency?.ttl?.value == .seconds(43_200))
        #expect(p.errors.map(\.exitCodes) == [[75, 76], [77]])
        #expect(p.errors[0].retry?.value.backoff == .init(initial: .milliseconds(500), factor: 3, max: .seconds(10), jitter: .full))
        #expect(p.errors[1].retry?.value.deferral == .nextDayUTC)
        #expect(p.errors[1].retry?.value.attempts == RetryPolicy.defaultDeferredAttempts)
        let a = p.stages[0].steps[0], b = p.stages[1].steps[0]
        #expect(a.retry?.value.attempts == 3)
        #expect(a.timeout?.value == .seconds(5400))
        #expect(b.needs.map(\.value) == ["a"])
        #expect(b.shell?.argv == ["bash", "-eu", "-c"])
        #expect(b.section == .main(stage: 1))
        #expect(p.rollback.map(\.section) == [.rollback])
        #expect(p.finally.map(\.name.value) == ["tidy"])
        guard case .expression(let e)? = b.forEach else { throw TestFailure("for_each") }
        #expect(e.text == "params.kinds")
    }

    @Test func stepsShorthandIsOneStageNamedMain() throws {
        let p = try #require(load("version: 1\nname: s\nsteps:\n  - {name: a, run: 'true'}\n").pipeline)
        #expect(p.pipeline.usesStepsShorthand)
        #expect(p.pipeline.stages.map(\.name.value) == ["main"])
    }

    @Test func unknownKeysAreSuggested() {
        let d = load("version: 1\nname: s\nsteps:\n  - {name: a, run: 'true', timout: 5m}\n").diagnostics
        #expect(d.map(\.code) == [.unknownKey])
        #expect(d.first?.hint == "did you mean 'timeout'?")
        #expect(d.first?.location?.column == 28)
    }

    @Test func extensionKeysAreIgnoredOnlyAtTopLevel() {
        #expect(codes("version: 1\nname: s\nx-any: {whatever: [1]}\nsteps:\n  - {name: a, run: 'true'}\n").isEmpty)
        #expect(codes("version: 1\nname: s\nsteps:\n  - {name: a, run: 'true', x-note: 1}\n") == [.unknownKey])
    }

    @Test func retryForms() throws {
        let p = try #require(load("""
        version: 1
        name: r
        steps:
          - {name: a, run: 'true', retry: none}
          - {name: b, run: 'true', retry: 4}
          - {name: c, run: 'true', retry: {backoff: {initial: 1m}}}
          - {name: d, run: 'true', retry: {at: "0 0 * * *", attempts: 5}}
        """).pipeline)
        let r = p.steps.map { $0.retry!.value }
        #expect(r[0] == .none)
        #expect(r[1].attempts == 4)
        #expect(r[2].attempts == 3)
        #expect(r[2].backoff.max == .seconds(60), "max follows a larger initial")
        #expect(r[3].attempts == 5)
        guard case .cron? = r[3].deferral else { throw TestFailure("cron deferral") }
    }

    @Test func typeSpecificParamKeysAreExplained() {
        let d = load("version: 1\nname: s\nparams:\n  a: {type: bool, min: 1}\nsteps:\n  - {name: a, run: 'true'}\n").diagnostics
        #expect(d.map(\.code) == [.invalidParamSpec])
        #expect(d.first?.message.contains("does not apply to a bool param") == true)
    }

    @Test func expressionErrorsPointIntoTheScalar() {
        let d = load("version: 1\nname: s\nsteps:\n  - name: a\n    run: 'true'\n    if: 'params.x = 1'\n").diagnostics
        #expect(d.first?.code == .expressionSyntax)
        #expect(d.first?.location == SourceLocation(file: "p.yaml", line: 6, column: 19))
    }

    @Test func allProblemsAreCollected() {
        let found = codes("""
        version: 1
        name: Bad
        steps:
          - {name: a, run: 'true', timeout: 5, needs: [zz]}
          - {name: a, run: 'true', retry: {attempts: 0}}
        """)
        #expect(Set(found) == [.invalidName, .wrongType, .unknownNeed, .duplicateStep, .invalidRetry])
    }

    @Test func boolIfIsAccepted() throws {
        let p = try #require(load("version: 1\nname: s\nsteps:\n  - {name: a, run: 'true', if: false}\n").pipeline)
        #expect(p.steps[0].condition?.text == "false")
    }
}
