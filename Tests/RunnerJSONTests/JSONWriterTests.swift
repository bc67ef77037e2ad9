import Foundation
import RunnerCore
import RunnerJSON
import RunnerTestSupport
import Testing

func written(_ value: some JSONWritable, pretty: Bool = true) -> String {
    var json = JSONWriter(style: pretty ? .pretty : .compact)
    value.write(to: &json)
    return String(decoding: json.bytes, as: UTF8.self)
}

/// The writer's text is JSONEncoder's with `.sortedKeys, .withoutEscapingSlashes`, pretty or not.
@Suite struct JSONWriterTests {
    @Test(arguments: [0, 7, 9, -1, 10, 99, 100, -4096, 1_234_567_890_123, Int.max, Int.min])
    func integersAreWrittenAsStringWritesThem(_ value: Int) {
        var json = JSONWriter()
        json.integer(value)
        #expect(String(decoding: json.bytes, as: UTF8.self) == String(value))
    }

    @Test(arguments: ["", "plain", "é漢🙂", "a\"b", "back\\slash", "line\nbreak", "\u{1}", "tab\there",
                      "/slash/", "</script>", "\u{7F}", "\u{2028}\u{2029}", "\u{FEFF}", "e\u{301}", "\u{85}", "\r\n",
                      "\u{8}\u{C}"])
    func stringsAreWrittenAsJSONEncoderWritesThem(_ text: String) {
        #expect(written(text) == referenceJSON(text))
        #expect(written(text, pretty: false) == referenceJSON(text, pretty: false))
    }

    @Test func everyControlCharacterIsEscapedAsJSONEncoderEscapesIt() {
        for scalar in (0..<0x20).compactMap(UnicodeScalar.init) {
            let text = "a" + String(scalar) + "b"
            #expect(written(text) == referenceJSON(text), "U+\(String(scalar.value, radix: 16))")
        }
        let all = String(String.UnicodeScalarView((0..<0x20).compactMap(UnicodeScalar.init)))
        #expect(written(["k": all]) == referenceJSON(["k": all]))
    }

    @Test(arguments: [0.0, -0.0, 1, 1.5, 0.1, -2, 100, 1e15, 1e16, 1e21, 1e-5, 2.5e-7, 0.30000000000000004, 1e300,
                      .leastNonzeroMagnitude, .greatestFiniteMagnitude, 123_456_789_012_345_680, -1234.5678,
                      9_007_199_254_740_992])
    func doublesAreWrittenAsJSONEncoderWritesThem(_ value: Double) {
        #expect(written(value) == referenceJSON(value))
        #expect(written([value]) == referenceJSON([value]))
    }

    /// JSONEncoder refuses them: JSON has no infinity or NaN.
    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteDoublesAreNull(_ value: Double) {
        #expect(written(["x": value], pretty: false) == #"{"x":null}"#)
    }

    @Test func keysAreInByteOrderAsSortedKeysOrdersThem() {
        let keys = ["k10", "k9", "K1", "a_b", "a-b", "é", "e\u{301}x", "ez", "f", "", "_", "~", "A", "a", "a1", "a10",
                    "a2"]
        let object = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        #expect(written(object) == referenceJSON(object))
        #expect(written(object, pretty: false) == referenceJSON(object, pretty: false))
    }

    @Test(arguments: [true, false])
    func nestingIsLaidOutAsJSONEncoderLaysItOut(pretty: Bool) {
        let trees: [JSONValue] = [
            .object([:]), .array([]), .array([.array([])]), .object(["a": .object([:]), "b": .array([])]),
            .array([.object(["x": .int(1), "y": .array([.null, .bool(true), .bool(false)])]), .object([:]),
                    .string("s")]),
            .object(["deep": .array([.array([.array([.object(["k": .array([.int(-1), .number(2.5)])])])])])]),
        ]
        for tree in trees {
            #expect(written(tree, pretty: pretty) == referenceJSON(tree, pretty: pretty))
        }
    }

    /// Random documents: the writer's text is JSONEncoder's for every one.
    @Test(arguments: [true, false])
    func randomDocumentsAreWrittenAsJSONEncoderWritesThem(pretty: Bool) {
        var random = SplitMix64(seed: pretty ? 0x15_0A : 0x15_0B)
        for n in 0..<300 {
            let tree = RandomJSON.value(&random, depth: 4)
            #expect(written(tree, pretty: pretty) == referenceJSON(tree, pretty: pretty), "document \(n)")
        }
    }

    @Test func aStreamComesInPiecesThatMakeTheDocument() {
        var random = SplitMix64(seed: 7)
        let tree = JSONValue.array((0..<200).map { _ in RandomJSON.value(&random, depth: 3) })
        var pieces: [[UInt8]] = []
        JSONWriter.stream(pieceSize: 512, to: { pieces.append($0) }) { tree.write(to: &$0) }
        #expect(pieces.joined().elementsEqual(JSONWriter.document(tree)))
        #expect(JSONWriter.document(tree).last == UInt8(ascii: "\n"))
        #expect(pieces.count > 2)
        #expect(pieces.dropLast().allSatisfy { $0.count >= 512 }, "each piece but the last fills its size")
        #expect(pieces.allSatisfy { String(validating: $0, as: UTF8.self) != nil }, "no piece splits a character")
    }
}

/// JSON documents made at random from what needs care: every kind of value, empty and nested
/// containers, keys and strings with escapes, control characters and non-ASCII text.
enum RandomJSON {
    static let pieces = ["a", "Z", "0", " ", "/", "\"", "\\", "\n", "\t", "\r", "\u{8}", "\u{C}", "\u{0}", "\u{1F}",
                         "\u{7F}", "é", "e\u{301}", "漢", "🙂", "\u{2028}", "\u{2029}", "-", "_", ".", "k", "~"]
    static let doubles: [Double] = [0, -0.0, 0.5, 0.1, 1e16, 1e-7, 3.25, -1e300, 123_456.789, .leastNonzeroMagnitude]

    static func text(_ random: inout SplitMix64, maxLength: Int = 8) -> String {
        (0..<Int.random(in: 0...maxLength, using: &random))
            .map { _ in pieces[Int.random(in: 0..<pieces.count, using: &random)] }
            .joined()
    }

    static func number(_ random: inout SplitMix64) -> Double {
        Bool.random(using: &random) ? doubles[Int.random(in: 0..<doubles.count, using: &random)]
            : Double.random(in: -1e6...1e6, using: &random)
    }

    static func value(_ random: inout SplitMix64, depth: Int) -> JSONValue {
        switch Int.random(in: 0..<(depth > 0 ? 8 : 6), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .int(Int.random(in: Int.min...Int.max, using: &random) >> Int.random(in: 0...63, using: &random))
        case 3: return .number(number(&random))
        case 4, 5: return .string(text(&random))
        case 6: return .array((0..<Int.random(in: 0...4, using: &random)).map { _ in value(&random, depth: depth - 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                members[text(&random, maxLength: 4)] = value(&random, depth: depth - 1)
            }
            return .object(members)
        }
    }
}
