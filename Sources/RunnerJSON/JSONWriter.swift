/// JSON written as it is made, into a buffer handed to a sink in pieces: a 1,000-step run is
/// never held whole as text. The bytes are JSONEncoder's with `.sortedKeys` and
/// `.withoutEscapingSlashes` (and `.prettyPrinted` when pretty): what the CLI prints and the
/// API answers. The writer sorts nothing: a caller gives an object's keys in byte order, as
/// `.sortedKeys` orders them (a dictionary's are sorted by its `JSONWritable` conformance).
public struct JSONWriter {
    public enum Style: Sendable {
        /// No whitespace: `{"a":[1,2]}`.
        case compact
        /// Two spaces a level, `"key" : value`, an empty container as `{`, a blank line, `}`.
        case pretty
    }

    /// Written and not yet handed to the sink.
    public private(set) var bytes: [UInt8] = []
    private let isPretty: Bool
    /// Containers open.
    private var depth = 0
    /// The indentation of the innermost open container's members (pretty only).
    private var indentation: [UInt8] = []
    /// Nothing written yet in the innermost open container.
    private var isEmpty = true
    /// A key was written: the next value is its value, not an array element.
    private var isAfterKey = false
    private let pieceSize: Int
    private let sink: (([UInt8]) -> Void)?

    /// A writer that keeps everything in `bytes`.
    public init(style: Style = .pretty) {
        isPretty = style == .pretty
        pieceSize = .max
        sink = nil
    }

    /// A writer that hands `sink` what it wrote whenever a container ends with `pieceSize`
    /// bytes or more waiting (so a piece never splits a character).
    public init(style: Style = .pretty, pieceSize: Int, sink: @escaping ([UInt8]) -> Void) {
        isPretty = style == .pretty
        self.pieceSize = pieceSize
        self.sink = sink
        bytes.reserveCapacity(pieceSize + 4096)
    }

    /// `value` as a document the CLI prints or the API answers: pretty, ending with a newline.
    public static func document(_ value: some JSONWritable) -> [UInt8] {
        document { value.write(to: &$0) }
    }

    /// The document `write` writes, whole.
    public static func document(_ write: (inout JSONWriter) -> Void) -> [UInt8] {
        var json = JSONWriter()
        write(&json)
        json.bytes.append(UInt8(ascii: "\n"))
        return json.bytes
    }

    /// The document `write` writes, handed to `sink` in pieces of `pieceSize` bytes or more
    /// (the last may be shorter) as it is written.
    public static func stream(pieceSize: Int = 64 << 10, to sink: @escaping ([UInt8]) -> Void,
                              _ write: (inout JSONWriter) -> Void) {
        var json = JSONWriter(pieceSize: pieceSize, sink: sink)
        write(&json)
        json.bytes.append(UInt8(ascii: "\n"))
        sink(json.bytes)
    }

    // MARK: - Containers

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// An object whose members `body` writes.
    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        beginObject()
        body(&self)
        endObject()
    }

    /// An array of `elements`, each made as it is written when the sequence is lazy.
    public mutating func array<S: Sequence>(_ elements: S) where S.Element: JSONWritable {
        beginArray()
        for element in elements { element.write(to: &self) }
        endArray()
    }

    /// The next member's key, one the program names (plain ASCII: copied as it is); its
    /// value follows.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        endKey()
    }

    /// The next member's key, taken from data (escaped as any string); its value follows.
    public mutating func key(text name: String) {
        separate()
        appendString(name)
        endKey()
    }

    /// A member, left out when `value` is nil (as synthesized `Encodable` leaves out a nil).
    public mutating func field(_ name: StaticString, _ value: (some JSONWritable)?) {
        guard let value else { return }
        key(name)
        value.write(to: &self)
    }

    private mutating func endKey() {
        if isPretty {
            bytes.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: " ")])
        } else {
            bytes.append(UInt8(ascii: ":"))
        }
        isAfterKey = true
    }

    // MARK: - Values

    public mutating func string(_ text: String) {
        beginValue()
        appendString(text)
    }

    public mutating func integer(_ value: Int) {
        beginValue()
        // Most are one digit (an attempt, an exit code).
        if (0..<10).contains(value) { return bytes.append(UInt8(ascii: "0") + UInt8(value)) }
        bytes.append(contentsOf: String(value).utf8)
    }

    /// As JSONEncoder writes a Double: its shortest round-tripping text without a trailing
    /// `.0`. JSON has no infinity or NaN (JSONEncoder refuses to encode them): null.
    public mutating func double(_ value: Double) {
        guard value.isFinite else { return null() }
        beginValue()
        let text = value.description
        bytes.append(contentsOf: text.hasSuffix(".0") ? text.utf8.dropLast(2) : text.utf8[...])
    }

    public mutating func bool(_ value: Bool) {
        beginValue()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func null() {
        beginValue()
        bytes.append(contentsOf: "null".utf8)
    }

    // MARK: - Layout

    private mutating func open(_ bracket: UInt8) {
        beginValue()
        bytes.append(bracket)
        depth += 1
        if isPretty { indentation.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: " ")]) }
        isEmpty = true
    }

    private mutating func close(_ bracket: UInt8) {
        depth -= 1
        if isPretty {
            indentation.removeLast(2)
            bytes.append(UInt8(ascii: "\n"))
            if isEmpty { bytes.append(UInt8(ascii: "\n")) }
            bytes.append(contentsOf: indentation)
        }
        bytes.append(bracket)
        isEmpty = false
        if bytes.count >= pieceSize, let sink {
            sink(bytes)
            bytes.removeAll(keepingCapacity: true)
        }
    }

    /// Before a value: nothing after a key or at the top, an element's separator in an array.
    private mutating func beginValue() {
        if isAfterKey {
            isAfterKey = false
        } else if depth > 0 {
            separate()
        }
    }

    /// A comma after an earlier member or element; pretty, a new line at the indentation.
    private mutating func separate() {
        if !isEmpty { bytes.append(UInt8(ascii: ",")) }
        if isPretty {
            bytes.append(UInt8(ascii: "\n"))
            bytes.append(contentsOf: indentation)
        }
        isEmpty = false
    }

    // MARK: - Text

    /// Quoted; `"`, `\` and control characters escaped as JSONEncoder escapes them, nothing
    /// else (not `/`, DEL, U+2028 or U+2029).
    private mutating func appendString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most text needs no escape: copied at once.
        let isPlain = text.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            guard !utf8.contains(where: Self.needsEscape) else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if isPlain != true {
            for byte in text.utf8 { appendEscaped(byte) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private mutating func appendEscaped(_ byte: UInt8) {
        let backslash = UInt8(ascii: "\\")
        switch byte {
        case UInt8(ascii: "\""), backslash: bytes.append(contentsOf: [backslash, byte])
        case 0x0A: bytes.append(contentsOf: [backslash, UInt8(ascii: "n")])
        case 0x0D: bytes.append(contentsOf: [backslash, UInt8(ascii: "r")])
        case 0x09: bytes.append(contentsOf: [backslash, UInt8(ascii: "t")])
        case 0x08: bytes.append(contentsOf: [backslash, UInt8(ascii: "b")])
        case 0x0C: bytes.append(contentsOf: [backslash, UInt8(ascii: "f")])
        case ..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            bytes.append(contentsOf: [backslash, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                      hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
        default: bytes.append(byte)
        }
    }
}
