import Foundation
import Testing
@testable import RunnerCore

@Suite struct SchedulerOrderTests {
    @Test func stagesAndNeedsOrderTheLaunches() throws {
        var h = try SchedulerHarness("""
        version: 1
        name: order
        stages:
          - name: build
            steps:
              - {name: lint, run: x}
              - {name: compile, run: x}
              - {name: package, run: x, needs: [compile]}
          - name: deploy
            steps:
              - {name: deploy, run: x}
              - {name: verify, run: x, needs: [deploy]}
        """)
        #expect(h.run() == .succeeded)
        #expect(h.launches.map(\.name) == ["lint", "compile", "package", "deploy", "verify"])
        #expect(h.launches.map(\.at) == [0, 0, 1, 2, 3])
    }

    @Test func parallelismIsABound() throws {
        let steps = (1...10).map { "  - {name: s\($0), run: x}" }.joined(separator: "\n")
        var h = try SchedulerHarness("version: 1\nname: wide\nsteps:\n" + steps, parallelism: 3)
        #expect(h.run() == .succeeded)
        #expect(h.maxConcurrent == 3)
        #expect(h.launches.count == 10)
        #expect(h.launches.last?.at == 3)
    }

    @Test func forEachMakesOneInstancePerItem() throws {
        var h = try SchedulerHarness("""
        version: 1
        name: fan
        params:
          targets: {type: list, items: string, default: [a, b, c]}
        steps:
          - {name: promote, run: x, for_each: params.targets}
          - {name: report, run: x, needs: [promote]}
        """)
        #expect(h.run() == .succeeded)
        #expect(h.launches.map(\.name) == ["promote[a]", "promote[b]", "promote[c]", "report"])
    }
}

@Suite struct SchedulerSkipTests {
    @Test func falseConditionSkipsTheStepAndItsNeedsButNotTheNextStage() throws {
        var h = try SchedulerHarness("""
        version: 1
        name: skip
        params:
          dry_run: {type: bool, default: true}
        stages:
          - name: load
            steps:
              - {name: load, run: x, if: "!params.dry_run"}
              - {name: supplement, run: x, needs: [load]}
          - name: report
            steps:
              - {name: summary, run: x}
        """)
        #expect(h.run() == .succeeded)
        #expect(h.status("load") == .skipped)
        #expect(h.status("supplement") == .skipped)
        #expect(h.stepMessages["supplement"] == "skipped: 'load' skipped")
        #expect(h.status("summary") == .succeeded)
    }

    @Test func aFailureSkipsWhatDependsOnItWhileIndependentBranchesFinish() throws {
        var h = try SchedulerHarness("""
        version: 1
        name: fail
        stages:
          - name: build
            steps:
              - {name: a, run: x, error: A_FAILED}
              - {name: b, run: x, needs: [a]}
              - {name: c, run: x}
              - {name: d, run: x, needs: [c]}
          - name: deploy
            steps:
              - {name: deploy, run: x}
              - name: notify
                run: x
                if: steps.a.status == "failed"
        """)
        h.script["a"] = [.exit(2, stderr: "compiler exploded")]
        #expect(h.run() == .failed)
        #expect(h.status("b") == .skipped)
        #expect(h.status("d") == .succeeded)
        #expect(h.status("deploy") == .skipped)
        #expect(h.status("notify") == .succeeded, "an `if` that reads the failed step's status decides")
        #expect(h.scheduler.runErrorCode == "A_FAILED")
        #expect(h.scheduler.runErrorMessage == "compiler exploded")
    }

    @Test func theRunsErrorCodeIsTheFirstFailure() throws {
        var h = try SchedulerHarness("""
        version: 1
        name: first
        steps:
          - {name: slow, run: x, error: SLOW_FAILED}
          - {name: fast, run: x, error: FAST_FAILED}
        """)
        h.script["slow"] = [.exit(1, after: 5)]
        h.script["fast"] = [.exit(1, after: 1)]
        #expect(h.run() == .failed)
        #expect(h.scheduler.runErrorCode == "FAST_FAILED")
    }

    @Test func continueOnErrorLetsDependentsRunAndEndsPartial() throws {
        var h = try SchedulerHarness("""
        version: 1
        name: tolerant
        steps:
          - {name: lint, run: x, continue_on_error: true}
          - {name: build, run: x, needs: [lint]}
        """)
        h.script["lint"] = [.exit(1)]
        #expect(h.run() == .partial)
        #expect(h.status("build") == .succeeded)
    }

    @Test func allowPartialForEach() throws {
        let yaml = """
        version: 1
        name: promote
        params:
          targets: {type: list, items: string, default: [a, b]}
        steps:
          - {name: promote, run: x, for_each: params.targets, allow_partial: true}
          - {name: report, run: x, needs: [promote]}
        """
        var some = try SchedulerHarness(yaml)
        some.script["promote[b]"] = [.exit(1, stderr: "maintenance mode")]
        #expect(some.run() == .partial)
        #expect(some.status("promote[a]") == .succeeded)
        #expect(some.instance("promote[b]")?.errorMessage == "maintenance mode")
        #expect(some.status("report") == .succeeded)
        var all = try SchedulerHarness(yaml)
        all.script["promote"] = [.exit(1)]
        #expect(all.run() == .failed)
        #expect(all.status("report") == .skipped)
    }

    @Test func outputsReachDependentsAndConditions() throws {
        var h = try SchedulerHarness("""
        version: 1
        name: outputs
        steps:
          - {name: deploy, run: x, outputs: [release, changed]}
          - {name: unrelated, run: x, outputs: [other]}
          - name: invalidate
            needs: [deploy]
            if: steps.deploy.outputs.changed == "true"
            run: x
          - name: skipped
            needs: [deploy]
            if: steps.deploy.outputs.changed == "false"
            run: x
        """)
        h.script["deploy"] = [.outputs(["release": "r1", "changed": "true"])]
        h.script["unrelated"] = [.outputs(["other": "o"])]
        #expect(h.run() == .succeeded)
        #expect(h.status("invalidate") == .succeeded)
        #expect(h.status("skipped") == .skipped)
        #expect(h.visibleOutputs["invalidate"] == ["deploy.changed=true", "deploy.release=r1"])
    }
}

@Suite struct SchedulerRetryTests {
    @Test func backoffWithoutJitterFollowsTheSchedule() throws {
        var h = try SchedulerHarness("""
        version: 1
        name: retry
        steps:
          - name: call
            run: x
            retry: {attempts: 6, backoff: {initial: 1s, factor: 2, max: 5s}}
        """)
        h.script["call"] = [.exit(1, after: 0), .exit(1, after: 0), .exit(1, after: 0), .exit(1, after: 0), .exit(1, after: 0), .ok]
        #expect(h.run() == .succeeded)
        #expect(h.launches.map(\.at) == [0, 1, 3, 7, 12, 17], "delays 1, 2, 4, then capped at 5")
        #expect(h.launches.map(\.attempt) == [1, 2, 3, 4, 5, 6])
    }

    @Test func attemptsAreABound() throws {
        var h = try SchedulerHarness("version: 1\nname: r\nsteps:\n  - {name: s, run: x, retry: 3, error: S_FAILED}")
        h.script["s"] = [.exit(1, after: 0)]
        #expect(h.run() == .failed)
        #expect(h.launches.count == 3)
        #expect(h.instance("s")?.errorCode == "S_FAILED")
    }

    @Test func fullJitterIsBoundedAndReproducible() throws {
        let yaml = """
        version: 1
        name: jitter
        steps:
          - {name: s, run: x, retry: {attempts: 5, backoff: {initial: 4s, factor: 2, max: 30s, jitter: full}}}
        """
        func times(seed: UInt64) throws -> [TimeInterval] {
            var h = try SchedulerHarness(yaml, seed: seed)
            h.script["s"] = [.exit(1, after: 0)]
            h.run()
            return h.launches.map(\.at)
        }
        let a = try times(seed: 7), b = try times(seed: 7), c = try times(seed: 8)
        #expect(a == b)
        #expect(a != c)
        let delays = zip(a.dropFirst(), a).map { $0 - $1 }
        for (n, delay) in delays.enumerated() {
            #expect(delay >= 0 && delay <= min(30, 4 * pow(2, Double(n))))
        }
    }

    @Test func equalJitterKeepsHalfTheDelay() {
        var random = SplitMix64(seed: 3)
        let backoff = RetryPolicy.Backoff(initial: .seconds(8), factor: 2, max: .seconds(60), jitter: .equal)
        for retry in 1...5 {
            let d = DurationText.milliseconds(RetryMath.delay(beforeRetry: retry, backoff: backoff, using: &random))
            let full = DurationText.milliseconds(RetryMath.cappedDelay(retry: retry, backoff: backoff))
            #expect(d >= full / 2 && d <= full)
        }
    }

    /// Seed 002's table: each failure class has its own code and retry rule.
    static let upstream = """
    version: 1
    name: ingestion
    errors:
      - {exit_codes: [75], code: UPSTREAM_RATE_LIMIT, retry: {attempts: 6, backoff: {initial: 1s, factor: 2, max: 30s}}}
      - {exit_codes: [76], code: UPSTREAM_QUOTA_LIMIT, retry: {at: next_day_utc}}
      - {exit_codes: [77], code: UPSTREAM_TIMEOUT, retry: 4}
      - {timeout: true, code: UPSTREAM_TIMEOUT, retry: 4}
      - {exit_codes: [78], code: UPSTREAM_INVALID_RESPONSE, retry: none}
      - {stderr: "connection reset", code: UPSTREAM_RESET, retry: 2}
      - {code: INTERNAL_ERROR}
    steps:
      - {name: fetch, run: x, timeout: 30s}
    """

    @Test func rateLimitIsRetriedWithBackoff() throws {
        var h = try SchedulerHarness(Self.upstream)
        h.script["fetch"] = [.exit(75, after: 0), .exit(75, after: 0), .ok]
        #expect(h.run() == .succeeded)
        #expect(h.launches.map(\.at) == [0, 1, 3])
    }

    /// Each failure class of `upstream` ends the run with its code after the attempts its
    /// retry rule allows.
    @Test(arguments: [
        (SchedulerHarness.Behaviour.exit(78, stderr: "contract violated"), 1, "UPSTREAM_INVALID_RESPONSE"),
        (.exit(77, after: 0), 4, "UPSTREAM_TIMEOUT"),  // an exit code: retried three times
        (.exit(1, stderr: "read: connection reset by peer"), 2, "UPSTREAM_RESET"),  // a pattern of stderr
        (.exit(3), nil, "INTERNAL_ERROR"),  // any other failure: the catch-all
    ] as [(SchedulerHarness.Behaviour, Int?, String)])
    func aFailureClassDecidesTheRetriesAndTheCode(_ failure: SchedulerHarness.Behaviour, launches: Int?,
                                                  code: String) throws {
        var h = try SchedulerHarness(Self.upstream)
        h.script["fetch"] = [failure]
        #expect(h.run() == .failed)
        if let launches { #expect(h.launches.count == launches) }
        #expect(h.scheduler.runErrorCode == code)
    }

    @Test func stepTimeoutTerminatesAndClassifies() throws {
        var h = try SchedulerHarness(Self.upstream)
        h.script["fetch"] = [.hang, .ok]
        #expect(h.run() == .succeeded)
        #expect(h.terminations.map(\.reason) == [.timeout])
        #expect(h.launches.map(\.at) == [0, 31], "terminated at 30 s, retried after the 1 s default backoff")
    }

    @Test func quotaMakesTheRunWaitUntilTheNextUTCDay() throws {
        // 08:00 UTC on some day
        let day = 1_800_000_000 - 1_800_000_000 % 86_400
        var h = try SchedulerHarness(Self.upstream, start: Date(timeIntervalSince1970: TimeInterval(day + 8 * 3600)))
        h.script["fetch"] = [.exit(76, after: 0), .ok]
        #expect(h.run() == .succeeded)
        let midnight = h.start.timeIntervalSince1970 - h.start.timeIntervalSince1970.truncatingRemainder(dividingBy: 86_400) + 86_400
        #expect(h.runStatuses == [.running, .waiting, .running, .succeeded])
        #expect(h.wakeAt?.timeIntervalSince1970 == midnight)
        #expect(h.launches.map(\.at) == [0, midnight - h.start.timeIntervalSince1970])
    }

    @Test func interruptedAttemptsDoNotCount() throws {
        var h = try SchedulerHarness("version: 1\nname: r\nsteps:\n  - {name: s, run: x}")
        h.script["s"] = [SchedulerHarness.Behaviour(duration: 1, end: .interrupted), .ok]
        #expect(h.run() == .succeeded)
        #expect(h.launches.map(\.attempt) == [1, 2])
        #expect(h.instance("s")?.attempts == 1)
    }
}

@Suite struct SchedulerRollbackTests {
    static let docs = """
    version: 1
    name: docs
    steps:
      - {name: build, run: x, error: DOCS_BUILD_FAILED}
      - {name: deploy, run: x, needs: [build], error: DOCS_DEPLOY_FAILED}
      - {name: switch, run: x, needs: [deploy], commit_point: true}
      - {name: invalidation, run: x, needs: [switch], error: INVALIDATION_FAILED}
    rollback:
      steps:
        - {name: rollback_prepare, run: x}
        - {name: rollback_switch, run: x, needs: [rollback_prepare]}
    finally:
      steps:
        - {name: cleanup, run: x}
    """

    @Test func failureAfterTheCommitPointRollsBack() throws {
        var h = try SchedulerHarness(Self.docs)
        h.script["invalidation"] = [.exit(1, stderr: "CDN answered 503")]
        #expect(h.run() == .rolledBack)
        #expect(h.runStatuses == [.running, .rollbackPending, .rolledBack])
        #expect(h.launches.map(\.name) == ["build", "deploy", "switch", "invalidation", "rollback_prepare", "rollback_switch", "cleanup"])
        #expect(h.scheduler.runErrorCode == "INVALIDATION_FAILED")
    }

    @Test func aFailedRollbackLeavesTheRunFailedWithBothErrors() throws {
        var h = try SchedulerHarness(Self.docs)
        h.script["invalidation"] = [.exit(1, stderr: "CDN answered 503")]
        h.script["rollback_prepare"] = [.exit(1, stderr: "no previous release")]
        #expect(h.run() == .failed)
        #expect(h.status("rollback_switch") == .skipped)
        #expect(h.status("cleanup") == .succeeded)
        #expect(h.scheduler.runErrorCode == "INVALIDATION_FAILED")
        #expect(h.scheduler.runErrorMessage == "CDN answered 503; rollback failed: STEP_FAILED: no previous release")
    }

    @Test func aBuildFailureNeverReachesDeployNorRollsBack() throws {
        var h = try SchedulerHarness(Self.docs)
        h.script["build"] = [.exit(1)]
        #expect(h.run() == .failed)
        #expect(h.launches.map(\.name) == ["build", "cleanup"])
        #expect(h.status("rollback_prepare") == .skipped)
        #expect(h.scheduler.runErrorCode == "DOCS_BUILD_FAILED")
    }

    @Test func finallyRunsAfterSuccess() throws {
        var h = try SchedulerHarness(Self.docs)
        #expect(h.run() == .succeeded)
        #expect(h.status("cleanup") == .succeeded)
        #expect(h.status("rollback_prepare") == .skipped)
    }

    @Test func aFailingFinallyStepFailsASucceededRun() throws {
        var h = try SchedulerHarness(Self.docs)
        h.script["cleanup"] = [.exit(1, stderr: "disk full")]
        #expect(h.run() == .failed)
        #expect(h.scheduler.runErrorMessage == "finally step failed: disk full")
    }
}

@Suite struct SchedulerCancelTests {
    @Test func cancelTerminatesRunningStepsAndRunsFinally() throws {
        var h = try SchedulerHarness("""
        version: 1
        name: cancel
        steps:
          - {name: a, run: x}
          - {name: b, run: x}
          - {name: c, run: x, needs: [a]}
        finally:
          steps:
            - {name: tidy, run: x}
        """)
        h.script["a"] = [.hang]
        h.script["b"] = [.hang]
        h.cancelAfterLaunches = 2
        #expect(h.run() == .cancelled)
        #expect(Set(h.terminations.map(\.name)) == ["a", "b"])
        #expect(h.status("a") == .cancelled)
        #expect(h.status("c") == .cancelled)
        #expect(h.status("tidy") == .succeeded)
    }

    @Test func cancelAfterTheCommitPointDoesNotRollBack() throws {
        var h = try SchedulerHarness(SchedulerRollbackTests.docs)
        h.script["invalidation"] = [.hang]
        h.cancelAfterLaunches = 4
        #expect(h.run() == .cancelled)
        #expect(h.status("switch") == .succeeded)
        #expect(h.status("rollback_prepare") == .skipped)
        #expect(h.stepMessages["rollback_prepare"] == "skipped: the run was cancelled")
        #expect(h.status("cleanup") == .succeeded)
    }

    @Test func cancelWhileWaitingEndsTheRun() throws {
        var h = try SchedulerHarness(SchedulerRetryTests.upstream)
        h.script["fetch"] = [.exit(76, after: 0)]
        h.apply(h.scheduler.start(now: h.now))
        h.events.sort { ($0.at, $0.order) < ($1.at, $1.order) }
        let end = h.events.removeFirst()
        h.apply(h.scheduler.handle(end.event, now: h.now))
        #expect(h.scheduler.runStatus == .waiting)
        h.apply(h.scheduler.handle(.cancel, now: h.now))
        #expect(h.scheduler.runStatus == .cancelled)
        #expect(h.status("fetch") == .cancelled)
    }
}
