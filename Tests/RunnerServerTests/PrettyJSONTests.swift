import Foundation
import Testing
@testable import RunnerServer

/// The direct JSON writer's pieces (RunJSONTests compares whole runs with JSONEncoder).
@Suite struct PrettyJSONTests {
    @Test(arguments: [0, 7, -1, 10, 99, 100, -4096, 1_234_567_890_123, Int64.max, Int64.min])
    func integersAreWrittenAsStringWritesThem(_ value: Int64) {
        var out: [UInt8] = []
        PrettyJSON.integer(value, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == String(value))
    }

    @Test(arguments: ["", "plain", "é漢🙂", "a\"b", "back\\slash", "line\nbreak", "\u{1}", "tab\there", "/slash/"])
    func stringsAreWrittenAsJSONEncoderWritesThem(_ text: String) throws {
        var out: [UInt8] = []
        PrettyJSON.string(text, into: &out)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        #expect(String(decoding: out, as: UTF8.self) == String(decoding: try encoder.encode(text), as: UTF8.self))
    }
}
