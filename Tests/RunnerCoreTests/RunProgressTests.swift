import Testing
@testable import RunnerCore

/// A run's overall progress from its step records: weights, for_each shares, statuses and the
/// message shown.
@Suite struct RunProgressTests {
    /// A record of `step` (`step[item]` with an item) at `position`.
    static func record(_ step: String, _ status: StepStatus, _ progress: Int? = nil, _ message: String? = nil,
                       item: String? = nil, section: String = "main", position: Int = 0) -> StepRecord {
        var r = StepRecord(name: StepName(item.map { "\(step)[\($0)]" } ?? step), step: step, item: item,
                           section: section, position: position)
        r.status = status
        r.progress = progress
        r.progressMessage = message
        return r
    }

    static func percent(_ steps: [StepRecord], _ weights: [String: Int]) -> Int {
        RunProgress.compute(steps: steps, weights: weights).percent
    }

    @Test(arguments: [
        // Each status's share: succeeded and skipped count whole, running and failed their progress.
        ([record("a", .succeeded), record("b", .queued, position: 1)], ["a": 1, "b": 1], 50),
        ([record("a", .skipped), record("b", .running, 50, position: 1)], ["a": 1, "b": 1], 75),
        ([record("a", .failed, 40), record("b", .cancelled, 90, position: 1)], ["a": 1, "b": 1], 20),
        ([record("a", .queued, 80)], ["a": 1], 0),
        ([record("a", .failed)], ["a": 1], 0),
        // Weights; steps not named do not count; rounded down.
        ([record("a", .succeeded), record("b", .queued, position: 1)], ["a": 1, "b": 3], 25),
        ([record("a", .succeeded), record("b", .queued, position: 1)], ["b": 3], 0),
        ([record("a", .running, 33), record("b", .running, 34, position: 1)], ["a": 1, "b": 2], 33),
        ([record("a", .succeeded), record("b", .succeeded, position: 1), record("c", .queued, position: 2)],
         ["a": 1, "b": 1, "c": 1], 66),
        // Out-of-range reports are clamped.
        ([record("a", .running, 250)], ["a": 1], 100),
        ([record("a", .running, -5)], ["a": 1], 0),
        // Nothing counted.
        ([], ["a": 1], 0),
        ([record("a", .succeeded)], [:], 0),
        ([record("a", .succeeded)], ["a": 0], 0),
    ])
    func percentages(_ steps: [StepRecord], _ weights: [String: Int], _ expected: Int) {
        #expect(Self.percent(steps, weights) == expected)
    }

    /// The instances of a for_each step share its weight: three of them, one done, weigh as a
    /// third of the step.
    @Test func forEachInstancesShareTheirStepsWeight() {
        let instances = ["a", "b", "c"].enumerated().map { n, item in
            Self.record("promote", n == 0 ? .succeeded : .queued, item: item, position: 1 + n)
        }
        let build = Self.record("build", .succeeded)
        #expect(Self.percent([build] + instances, ["build": 1, "promote": 1]) == 66)
        #expect(Self.percent(instances, ["promote": 1]) == 33)
        // 1/3 of one step and 2/3 of another, equally weighed: exactly a half, not 49.
        let other = ["x", "y", "z"].enumerated().map { n, item in
            Self.record("check", n < 2 ? .succeeded : .queued, item: item, position: 4 + n)
        }
        #expect(Self.percent(instances + other, ["promote": 1, "check": 1]) == 50)
        // A for_each step with no instances counts for nothing, not as 0 %.
        #expect(Self.percent([build], ["build": 1, "promote": 5]) == 100)
    }

    /// Instance counts whose least common multiple overflows fall back to floating point.
    @Test func hugeWeightsAndManySharesStayInRange() {
        let steps = (0..<40).flatMap { s in
            (0..<(s + 2)).map { i in Self.record("s\(s)", i == 0 ? .succeeded : .running, 50, item: "\(i)") }
        }
        let weights = Dictionary(uniqueKeysWithValues: (0..<40).map { ("s\($0)", Int.max / 20) })
        let percent = Self.percent(steps, weights)
        #expect((50...100).contains(percent))
    }

    @Test func theMessageIsTheLastRunningStepsElseTheLastOne() {
        let done = Self.record("a", .succeeded, 100, "a done")
        let running = Self.record("b", .running, 10, "b at 10", position: 1)
        let quiet = Self.record("c", .running, 5, position: 2)
        let failed = Self.record("d", .failed, 70, "d broke", position: 3)
        let all = ["a": 1, "b": 1, "c": 1, "d": 1]
        #expect(RunProgress.compute(steps: [done, running, quiet, failed], weights: all).message == "b at 10")
        #expect(RunProgress.compute(steps: [failed, done, quiet], weights: all).message == "d broke", "by position")
        #expect(RunProgress.compute(steps: [done, running], weights: ["a": 1]).message == "a done",
                "counted steps only")
        #expect(RunProgress.compute(steps: [quiet], weights: all).message == nil)
    }

    @Test func weightsComeFromThePipelineElseEveryMainStepOnce() {
        var pipeline = Make.pipeline([[Make.step("build"), Make.step("test")], [Make.step("ship")]],
                                     finally: [Make.step("cleanup")])
        #expect(RunProgress.weights(of: pipeline) == ["build": 1, "test": 1, "ship": 1])
        pipeline.progress = ProgressSpec(weights: [(Located("ship", at: Make.at(1)), Located(4, at: Make.at(1)))],
                                         location: Make.at(1))
        #expect(RunProgress.weights(of: pipeline) == ["ship": 4])
        let records = [Self.record("build", .succeeded), Self.record("promote", .queued, item: "a", position: 1),
                       Self.record("cleanup", .queued, section: "finally", position: 2)]
        #expect(RunProgress.defaultWeights(of: records) == ["build": 1, "promote": 1])
    }
}
