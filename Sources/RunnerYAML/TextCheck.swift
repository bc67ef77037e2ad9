import RunnerCore

/// Encoding checks and byte-offset locations, done before libyaml sees the bytes.
enum TextCheck {
    /// A located diagnostic for the first byte that is not UTF-8, or for a UTF-16/32 BOM.
    static func encodingProblem(_ bytes: [UInt8], file: String) -> Diagnostic? {
        if bytes.count >= 2, (bytes[0] == 0xFE && bytes[1] == 0xFF) || (bytes[0] == 0xFF && bytes[1] == 0xFE) {
            return Diagnostic(.invalidEncoding, "the file is UTF-16 encoded", at: SourceLocation(file: file, line: 1, column: 1),
                              hint: DiagnosticCode.invalidEncoding.help)
        }
        guard let offset = firstInvalidUTF8(bytes) else { return nil }
        let location = bytes.withUnsafeBufferPointer { self.location(ofByte: offset, in: $0, file: file) }
        return Diagnostic(.invalidEncoding, "byte 0x\(String(bytes[offset], radix: 16, uppercase: true)) at offset \(offset) is not valid UTF-8",
                          at: location, hint: DiagnosticCode.invalidEncoding.help)
    }

    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer(firstInvalidUTF8)
    }

    static func firstInvalidUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        let n = b.count
        let raw = UnsafeRawBufferPointer(b)
        while i < n {
            // Eight ASCII bytes at a time (a pipeline is mostly ASCII).
            if i + 8 <= n, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
                continue
            }
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let length: Int
            var minimum: UInt32
            switch c {
            case 0xC2...0xDF: length = 2; minimum = 0x80
            case 0xE0...0xEF: length = 3; minimum = 0x800
            case 0xF0...0xF4: length = 4; minimum = 0x10000
            default: return i
            }
            guard i + length <= n else { return i }
            var scalar = UInt32(c) & (0xFF >> (length + 1))
            for k in 1..<length {
                guard b[i + k] & 0xC0 == 0x80 else { return i }
                scalar = scalar << 6 | UInt32(b[i + k] & 0x3F)
            }
            if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return i }
            minimum = 0
            i += length
        }
        return nil
    }

    /// Line and column (in Unicode scalars) of a byte offset.
    static func location(ofByte offset: Int, in bytes: UnsafeBufferPointer<UInt8>, file: String) -> SourceLocation {
        var line = 1, column = 1
        for i in 0..<min(offset, bytes.count) {
            if bytes[i] == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if bytes[i] & 0xC0 != 0x80 {
                column += 1
            }
        }
        return SourceLocation(file: file, line: line, column: column)
    }

    /// The character at a character index (libyaml counts characters), if the bytes are UTF-8.
    static func character(atCharacterIndex index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Character? {
        var count = 0
        for i in 0..<bytes.count where bytes[i] & 0xC0 != 0x80 {
            if count == index { return bytes[i] < 0x80 ? Character(Unicode.Scalar(bytes[i])) : nil }
            count += 1
        }
        return nil
    }
}
