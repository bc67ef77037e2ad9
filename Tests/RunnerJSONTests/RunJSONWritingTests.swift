import Foundation
import RunnerCore
import RunnerJSON
import RunnerTestSupport
import Testing

/// A run written by `JSONWriter` is what JSONEncoder wrote of it (the CLI's and the API's bytes
/// before the writer), for runs made at random from fixed seeds.
@Suite struct RunJSONWritingTests {
    @Test(arguments: [true, false])
    func randomRunsAreWrittenAsJSONEncoderWritesThem(pretty: Bool) {
        var random = SplitMix64(seed: pretty ? 0x17_C0 : 0x17_C1)
        for n in 0..<150 {
            let run = RandomRun.run(&random)
            #expect(written(run, pretty: pretty) == referenceJSON(run, pretty: pretty), "run \(n)")
        }
    }

    /// What `apply --json`, `runs show --json` and the API write: steps and attempts given as
    /// lazy sequences of their records, in pieces.
    @Test func aRunStreamedFromItsRecordsIsItsWholeEncoding() {
        var random = SplitMix64(seed: 0x17_C2)
        for _ in 0..<20 {
            let stored = RandomRun.stored(&random, steps: Int.random(in: 0...30, using: &random))
            let header = RunJSON(stored.run, masked: ["token"])
            var pieces: [[UInt8]] = []
            JSONWriter.stream(pieceSize: 256, to: { pieces.append($0) }) {
                header.write(to: &$0, steps: stored.steps.lazy.map(RunJSON.step),
                             attempts: stored.attempts.lazy.map(RunJSON.attempt))
            }
            let text = String(decoding: pieces.joined(), as: UTF8.self)
            #expect(text == referenceJSON(RunJSON(stored, masked: ["token"])).map { $0 + "\n" })
            #expect(stored.steps.isEmpty || pieces.count > 1, "written in pieces, not as one text")
            #expect(pieces.dropLast().allSatisfy { $0.count >= 256 }, "each piece but the last fills its size")
        }
    }

    /// A run listed (no steps or attempts): neither key.
    @Test func aRunWithoutStepListsKeepsItsShape() {
        var random = SplitMix64(seed: 0x17_C3)
        let json = RunJSON(RandomRun.stored(&random, steps: 0).run, masked: [])
        #expect(String(decoding: JSONWriter.document(json), as: UTF8.self) == referenceJSON(json).map { $0 + "\n" })
        #expect(!written(json).contains("\"steps\""))
    }

    @Test func secretParamsAreMasked() {
        var random = SplitMix64(seed: 0x17_C4)
        var stored = RandomRun.stored(&random, steps: 1)
        stored.run.params = ["token": .string("s3cret"), "shown": .list([.int(1), .number(0.5)])]
        let text = written(RunJSON(stored, masked: ["token"]))
        #expect(text.contains(#""token" : "***""#) && !text.contains("s3cret"))
    }
}

/// Runs made at random: every member present or absent, text from `RandomJSON.pieces`.
enum RandomRun {
    static func maybe<T>(_ random: inout SplitMix64, _ make: (inout SplitMix64) -> T) -> T? {
        Bool.random(using: &random) ? make(&random) : nil
    }

    static func text(_ random: inout SplitMix64) -> String { RandomJSON.text(&random) }

    static func strings(_ random: inout SplitMix64) -> [String: String] {
        var out: [String: String] = [:]
        for _ in 0..<Int.random(in: 0...3, using: &random) { out[text(&random)] = text(&random) }
        return out
    }

    static func value(_ random: inout SplitMix64, depth: Int = 2) -> Value {
        switch Int.random(in: 0..<(depth > 0 ? 6 : 5), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .int(Int.random(in: -1_000_000...1_000_000, using: &random))
        case 3: return .number(RandomJSON.number(&random))
        case 4: return .string(text(&random))
        default: return .list((0..<Int.random(in: 0...3, using: &random)).map { _ in value(&random, depth: depth - 1) })
        }
    }

    static func date(_ random: inout SplitMix64) -> Date {
        Date(timeIntervalSince1970: Double(Int.random(in: 0...4_000_000_000_000, using: &random)) / 1000)
    }

    static func stored(_ random: inout SplitMix64, steps: Int) -> StoredRun {
        var params: [String: Value] = [:]
        for _ in 0..<Int.random(in: 0...4, using: &random) { params[text(&random)] = value(&random) }
        var run = RunRecord(id: RunID(text(&random)), pipeline: text(&random), pipelineFile: "/p.yaml", definition: "",
                            trigger: Trigger.allCases.randomElement(using: &random) ?? .cli, params: params,
                            parallelism: 2, createdAt: date(&random))
        run.status = RunStatus.allCases.randomElement(using: &random) ?? .queued
        run.startedAt = maybe(&random, date)
        run.finishedAt = maybe(&random, date)
        run.wakeAt = maybe(&random, date)
        run.errorCode = maybe(&random, text)
        run.errorMessage = maybe(&random, text)
        run.triggerDetail = strings(&random)
        for name in params.keys where Bool.random(using: &random) {
            run.refs[name] = RecordedRef(sha: text(&random), repository: text(&random))
        }
        var records: [StepRecord] = []
        var attempts: [AttemptRecord] = []
        for n in 0..<steps {
            var step = StepRecord(name: StepName(text(&random)), step: text(&random), item: maybe(&random, text),
                                  section: text(&random), position: n)
            step.status = StepStatus.allCases.randomElement(using: &random) ?? .queued
            step.attempts = Int.random(in: 0...5, using: &random)
            step.errorCode = maybe(&random, text)
            step.errorMessage = maybe(&random, text)
            step.progress = maybe(&random) { Int.random(in: 0...100, using: &$0) }
            step.progressMessage = maybe(&random, text)
            step.startedAt = maybe(&random, date)
            step.finishedAt = maybe(&random, date)
            step.outputs = strings(&random)
            records.append(step)
            var attempt = AttemptRecord(step: step.name, serial: n, attempt: Int.random(in: 1...3, using: &random),
                                        startedAt: date(&random))
            attempt.counted = Bool.random(using: &random)
            attempt.finishedAt = maybe(&random, date)
            attempt.exitCode = maybe(&random) { Int32.random(in: -1...255, using: &$0) }
            attempt.signal = maybe(&random) { Int32.random(in: 1...31, using: &$0) }
            attempt.timedOut = Bool.random(using: &random)
            attempt.errorCode = maybe(&random, text)
            attempt.message = maybe(&random, text)
            attempt.logPath = maybe(&random, text)
            attempts.append(attempt)
        }
        return StoredRun(run: run, steps: records, attempts: attempts)
    }

    static func run(_ random: inout SplitMix64) -> RunJSON {
        let stored = stored(&random, steps: Int.random(in: 0...4, using: &random))
        let secrets = Set(stored.run.params.keys.filter { _ in Bool.random(using: &random) })
        var json = RunJSON(stored.run, masked: secrets)
        json.retryable = maybe(&random) { Bool.random(using: &$0) }
        if Bool.random(using: &random) {
            json.steps = stored.steps.map { record in
                var step = RunJSON.step(record)
                step.retryable = maybe(&random) { Bool.random(using: &$0) }
                return step
            }
        }
        if Bool.random(using: &random) { json.attempts = stored.attempts.map(RunJSON.attempt) }
        return json
    }
}
