import Testing
@testable import RunnerCore

@Suite struct PipelineGraphTests {
    @Test func wavesFollowNeedsAndStageBarriers() {
        let p = Make.pipeline([
            [Make.step("a"), Make.step("b", needs: ["a"]), Make.step("c")],
            [Make.step("d"), Make.step("e", needs: ["d"])],
        ], rollback: [Make.step("r1"), Make.step("r2", needs: ["r1"])], finally: [Make.step("f")])
        let g = PipelineGraph(pipeline: p)
        let level = { (name: String) in g.nodes[g.indexByName[name]!].level }
        #expect([level("a"), level("b"), level("c"), level("d"), level("e")] == [0, 1, 0, 2, 3])
        #expect([level("r1"), level("r2"), level("f")] == [0, 1, 0])
        #expect(g.executionOrder(of: .main).map { g.nodes[$0].name } == ["a", "c", "b", "d", "e"])
        #expect(g.cycles().isEmpty)
    }

    /// Consecutive steps with the same needs share one lookup of those names; each step still
    /// gets its own edges (a rollback step cannot need main steps) and its own unknown needs.
    @Test func repeatedNeedsListsResolvePerStep() {
        let p = Make.pipeline([[Make.step("a"), Make.step("b"), Make.step("c", needs: ["a", "b", "zz"]),
                                Make.step("d", needs: ["a", "b", "zz"]), Make.step("e", needs: ["a", "b"])]],
                              rollback: [Make.step("r", needs: ["a", "b", "zz"])])
        let (g, targets) = PipelineGraph.resolving(pipeline: p, steps: p.allSteps)
        let node = { (name: String) in g.nodes[g.indexByName[name]!] }
        let names = { (n: PipelineGraph.Node) in n.needs.map { g.nodes[$0].name } }
        #expect(names(node("c")) == ["a", "b"] && names(node("d")) == ["a", "b"] && names(node("e")) == ["a", "b"])
        #expect(names(node("r")).isEmpty)
        let ia = Int32(g.indexByName["a"]!), ib = Int32(g.indexByName["b"]!)
        #expect(targets[g.indexByName["c"]!] == [ia, ib, -1])
        #expect(targets[g.indexByName["d"]!] == [ia, ib, -1])
        #expect(targets[g.indexByName["r"]!] == [ia, ib, -1])
        let (_, diagnostics) = PipelineValidator.check(p)
        #expect(diagnostics.filter { $0.code == .unknownNeed }.count == 3, "\(diagnostics.map(\.message))")
    }

    @Test func cyclesAreReportedAsFullPaths() {
        let p = Make.pipeline([[Make.step("a", needs: ["c"]), Make.step("b", needs: ["a"]), Make.step("c", needs: ["b"]),
                                Make.step("self", needs: ["self"]), Make.step("ok", needs: ["a"])]])
        let g = PipelineGraph(pipeline: p)
        let cycles = g.cycles().map { $0.map { g.nodes[$0].name } }
        #expect(cycles == [["a", "c", "b", "a"], ["self", "self"]])
    }

    @Test func validatorPointsAtTheEdgeClosingTheCycle() {
        let p = Make.pipeline([[Make.step("a", needs: ["b"], line: 10), Make.step("b", needs: ["a"], line: 20)]])
        let (_, diagnostics) = PipelineValidator.check(p)
        let cycle = diagnostics.first { $0.code == .dependencyCycle }
        #expect(cycle?.message == "dependency cycle: a -> b -> a")
        #expect(cycle?.location?.line == 12)
    }

    @Test func canReadFollowsDependencies() {
        let p = Make.pipeline([[Make.step("a"), Make.step("b", needs: ["a"]), Make.step("c", needs: ["b"]), Make.step("x")],
                               [Make.step("d")]],
                              rollback: [Make.step("r1"), Make.step("r2", needs: ["r1"])], finally: [Make.step("f")])
        let g = PipelineGraph(pipeline: p)
        let i = { g.indexByName[$0]! }
        #expect(g.canRead(i("c"), i("a")))
        #expect(!g.canRead(i("a"), i("c")))
        #expect(!g.canRead(i("c"), i("x")))
        #expect(g.canRead(i("d"), i("x")))
        #expect(!g.canRead(i("x"), i("d")))
        #expect(g.canRead(i("r1"), i("d")))
        #expect(g.canRead(i("r2"), i("r1")))
        #expect(!g.canRead(i("r1"), i("r2")))
        #expect(g.canRead(i("f"), i("r2")))
        #expect(!g.canRead(i("d"), i("r1")))
        #expect(!g.canRead(i("a"), i("a")))
    }

    @Test func tenThousandStepChainNeitherOverflowsNorCrawls() {
        var steps = [Make.step("s0")]
        for n in 1..<10_000 { steps.append(Make.step("s\(n)", needs: ["s\(n - 1)"])) }
        steps[0].needs = [Located("s9999", at: Make.at(1))]
        let g = PipelineGraph(pipeline: Make.pipeline([steps]))
        let cycles = g.cycles()
        #expect(cycles.count == 1)
        #expect(cycles.first?.count == 10_001)
    }

    @Test func hugeStagesAreNotMaterialisedAsEdges() {
        let first = (0..<3000).map { Make.step("a\($0)") }
        let second = (0..<3000).map { Make.step("b\($0)") }
        let g = PipelineGraph(pipeline: Make.pipeline([first, second]))
        #expect(g.nodes.allSatisfy { $0.needs.isEmpty })
        #expect(g.nodes[g.indexByName["b0"]!].level == 1)
    }
}

@Suite struct StepPolicyTests {
    @Test func errorClassPrecedence() {
        var p = Make.pipeline([[Make.step("a")]])
        var limit = ErrorClass(code: Located("UPSTREAM_RATE_LIMIT", at: Make.at(1)), location: Make.at(1))
        limit.exitCodes = [75]
        limit.retry = Located(RetryPolicy(attempts: 6), at: Make.at(1))
        let catchAll = ErrorClass(code: Located("INTERNAL_ERROR", at: Make.at(2)), location: Make.at(2))
        p.errors = [limit, catchAll]
        p.defaults.retry = Located(RetryPolicy(attempts: 2), at: Make.at(3))
        var step = p.stages[0].steps[0]
        var own = ErrorClass(code: Located("OWN", at: Make.at(4)), location: Make.at(4))
        own.matchesTimeout = true
        step.errors = [own]
        step.errorCode = Located("STEP_CODE", at: Make.at(5))

        let policy = StepPolicy(step: step, pipeline: p)
        #expect(policy.errorClasses.map(\.code) == ["OWN", "UPSTREAM_RATE_LIMIT", "STEP_CODE"])
        #expect(policy.errorClasses.map(\.retry.attempts) == [2, 6, 2])

        step.errorCode = nil
        #expect(StepPolicy(step: step, pipeline: p).errorClasses.map(\.code) == ["OWN", "UPSTREAM_RATE_LIMIT", "INTERNAL_ERROR"])
        p.errors = []
        #expect(StepPolicy(step: step, pipeline: p).errorClasses.map(\.code) == ["OWN", "STEP_FAILED"])
        step.errors.append(ErrorClass(code: Located("MINE", at: Make.at(6)), location: Make.at(6)))
        #expect(StepPolicy(step: step, pipeline: p).errorClasses.map(\.code) == ["OWN", "MINE"])
    }
}
