import Foundation
import RunnerCore
import RunnerJSON
import RunnerTestSupport
import Testing
@testable import RunnerCLI

@Suite struct RunJSONTests {
    func sampleRun(steps: Int, attempts: Bool) -> StoredRun {
        var run = RunRecord(id: RunID("20261123-000000-abcdef"), pipeline: "p", pipelineFile: "/x/p.yaml", definition: "",
                            trigger: .cli, params: ["targetRef": .string("main"), "targets": .list([.string("a"), .string("b/c")]),
                                                    "token": .string("s3cret"), "n": .int(3)],
                            parallelism: 2, createdAt: Date(timeIntervalSince1970: 1_790_000_000))
        run.status = .failed
        run.errorCode = "DOCS_BUILD_FAILED"
        run.errorMessage = "line one\nline \"two\""
        run.startedAt = run.createdAt.addingTimeInterval(0.25)
        run.actor = "ops-bot"
        var stepRecords: [StepRecord] = []
        var attemptRecords: [AttemptRecord] = []
        for i in 0..<steps {
            var step = StepRecord(name: StepName("s\(i)"), step: "s\(i)", item: i % 2 == 0 ? nil : "item/\(i)", section: "main", position: i)
            step.status = i == 0 ? .failed : .succeeded
            step.attempts = 1
            step.outputs = i % 3 == 0 ? [:] : ["release": "r-\(i)", "url": "https://example.com/a/b"]
            step.errorCode = i == 0 ? "STEP_FAILED" : nil
            stepRecords.append(step)
            if attempts {
                var attempt = AttemptRecord(step: StepName("s\(i)"), serial: 1, attempt: 1, startedAt: run.createdAt)
                attempt.exitCode = i == 0 ? 2 : 0
                attempt.logPath = "/tmp/logs/s\(i).1.log"
                attemptRecords.append(attempt)
            }
        }
        return StoredRun(run: run, steps: stepRecords, attempts: attemptRecords)
    }

    /// The run in one piece, with the progress of `weights`.
    func withProgress(_ stored: StoredRun, weights: [String: Int]) -> RunJSON {
        var json = RunJSON(stored, masked: ["token"])
        json.setProgress(of: stored.steps, weights: weights)
        return json
    }

    /// What `apply --json` and `runs show --json` print: records converted one at a time.
    @Test(arguments: [(0, false), (1, true), (3, false), (7, true)])
    func writtenFromTheRecordsIsTheOnePieceEncoding(steps: Int, attempts: Bool) {
        let stored = sampleRun(steps: steps, attempts: attempts)
        let captured = Captured()
        RunJSON.writeJSON(stored, secrets: ["token"], weights: ["s0": 1, "s1": 3], to: captured.console(colors: false))
        #expect(captured.out == JSONOutput.encode(withProgress(stored, weights: ["s0": 1, "s1": 3])))
    }

    /// The writer escapes and orders as JSONEncoder does (RunnerJSONTests: for random runs).
    @Test func oddTextIsWrittenAsJSONEncoderWritesIt() {
        var stored = sampleRun(steps: 3, attempts: true)
        let odd = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined() + "\"\\/\u{7F}é漢🙂\u{2028}\u{FEFF}"
        stored.steps[1].errorMessage = odd
        stored.steps[1].progressMessage = "50% " + odd
        stored.steps[1].progress = 50
        stored.steps[1].outputs = ["k10": odd, "k9": "", "K1": "x", "a_b": "y", "a-b": "z", "é": "1"]
        stored.steps[2].item = odd
        stored.attempts[1].message = odd
        stored.attempts[1].signal = 15
        stored.attempts[1].timedOut = true
        stored.attempts[2].finishedAt = nil
        stored.attempts[2].exitCode = nil
        stored.attempts[2].logPath = nil
        let captured = Captured()
        RunJSON.writeJSON(stored, secrets: ["token"], weights: ["s0": 1, "s1": 3], to: captured.console(colors: false))
        #expect(captured.out == JSONOutput.encode(withProgress(stored, weights: ["s0": 1, "s1": 3])))
    }

    /// What `runs list --json` prints: the runs without their steps, as an array.
    @Test(arguments: [0, 1, 3])
    func runsListedAreTheOnePieceEncoding(count: Int) {
        let runs = (0..<count).map { n in RunJSON(sampleRun(steps: n, attempts: false).run, masked: []) }
        let captured = Captured()
        RunJSON.writeJSON(runs, to: captured.console(colors: false))
        #expect(captured.out == JSONOutput.encode(runs))
    }
}

@Suite struct ProgressDurationTests {
    @Test(arguments: [(0.0, "0.0s"), (0.04, "0.0s"), (0.05, "0.1s"), (1.26, "1.3s"), (9.94, "9.9s"), (9.96, "10.0s"),
                      (10, "0m10s"), (65, "1m05s"), (3599, "59m59s"), (3600, "1h00m"), (7325, "2h02m")])
    func durations(seconds: Double, text: String) {
        #expect(ProgressRenderer.duration(seconds) == text)
    }
}
