/// A token of the expression language. Offsets are in Unicode scalars, as columns are.
struct ExpressionToken: Hashable {
    enum Kind: Hashable {
        case identifier(String)
        case string(String)
        case number(Value)
        case symbol(String)   // . == != && || ! ( ) [ ] , + ?? ? :
        case end
    }

    var kind: Kind
    var offset: Int
    var length: Int
}

struct ExpressionSyntaxError: Error, Hashable {
    var message: String
    var offset: Int
    var length: Int = 1
    var hint: String?
    var code: DiagnosticCode = .expressionSyntax
}

/// Splits an expression into tokens, scanning UTF-8 bytes (names and operators are ASCII;
/// only string literals may hold other text).
enum ExpressionLexer {
    static func tokenize(_ text: String) -> Result<[ExpressionToken], ExpressionSyntaxError> {
        var text = text
        return text.withUTF8 { bytes in
            var scanner = Scanner(bytes: bytes)
            return scanner.run()
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0
        /// Scalar offset of byte `i`.
        var offset = 0
        var tokens: [ExpressionToken] = []

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
        static func isNameByte(_ b: UInt8) -> Bool { isLetter(b) || isDigit(b) || b == 0x5F || b == 0x2D }

        func peek(_ k: Int = 0) -> UInt8? { i + k < bytes.count ? bytes[i + k] : nil }

        /// Advances over one scalar.
        mutating func step() {
            i += 1
            while i < bytes.count, bytes[i] & 0xC0 == 0x80 { i += 1 }
            offset += 1
        }

        func text(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }

        func scalar(at index: Int) -> String {
            var end = index + 1
            while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
            return text(index..<end)
        }

        mutating func run() -> Result<[ExpressionToken], ExpressionSyntaxError> {
            while let c = peek() {
                if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { step(); continue }
                let start = i, startOffset = offset
                if Self.isLetter(c) || c == 0x5F {
                    while let b = peek(), Self.isNameByte(b) { step() }
                    tokens.append(.init(kind: .identifier(text(start..<i)), offset: startOffset, length: offset - startOffset))
                    continue
                }
                if Self.isDigit(c) || (c == 0x2D && peek(1).map(Self.isDigit) == true) {
                    switch number() {
                    case .success(let v): tokens.append(.init(kind: .number(v), offset: startOffset, length: offset - startOffset))
                    case .failure(let e): return .failure(e)
                    }
                    continue
                }
                if c == 0x22 || c == 0x27 {
                    switch string() {
                    case .success(let s): tokens.append(.init(kind: .string(s), offset: startOffset, length: offset - startOffset))
                    case .failure(let e): return .failure(e)
                    }
                    continue
                }
                if let next = peek(1) {
                    let pair = String(decoding: [c, next], as: UTF8.self)
                    if ["==", "!=", "&&", "||", "??"].contains(pair) {
                        step(); step()
                        tokens.append(.init(kind: .symbol(pair), offset: startOffset, length: 2))
                        continue
                    }
                    if pair == "${" {
                        return .failure(.init(message: "'${' is not expression syntax", offset: startOffset, length: 2,
                                              hint: "write the expression bare, e.g. `params.dry_run`, without ${{ }}"))
                    }
                }
                switch c {
                case 0x2E, 0x21, 0x28, 0x29, 0x5B, 0x5D, 0x2C, 0x2B, 0x3F, 0x3A:
                    step()
                    tokens.append(.init(kind: .symbol(String(decoding: [c], as: UTF8.self)), offset: startOffset, length: 1))
                case 0x3D:
                    return .failure(.init(message: "unexpected '='", offset: startOffset, hint: "compare with '=='"))
                case 0x26:
                    return .failure(.init(message: "unexpected '&'", offset: startOffset, hint: "'and' is written '&&'"))
                case 0x7C:
                    return .failure(.init(message: "unexpected '|'", offset: startOffset, hint: "'or' is written '||'"))
                case 0x3C, 0x3E:
                    return .failure(.init(message: "unexpected '\(scalar(at: start))': ordering comparisons are not part of the language",
                                          offset: startOffset, hint: "expressions support == != in && || !"))
                default:
                    return .failure(.init(message: "unexpected character '\(scalar(at: start))'", offset: startOffset))
                }
            }
            tokens.append(.init(kind: .end, offset: offset, length: 1))
            return .success(tokens)
        }

        mutating func number() -> Result<Value, ExpressionSyntaxError> {
            let start = i, startOffset = offset
            if peek() == 0x2D { step() }
            while let b = peek(), Self.isDigit(b) { step() }
            var isDecimal = false
            if peek() == 0x2E, let next = peek(1), Self.isDigit(next) {
                isDecimal = true
                step()
                while let b = peek(), Self.isDigit(b) { step() }
            }
            if let b = peek(), Self.isLetter(b) || b == 0x5F {
                step()
                return .failure(.init(message: "malformed number '\(text(start..<i))'", offset: startOffset, length: offset - startOffset))
            }
            let literal = text(start..<i)
            if !isDecimal, let n = Int(literal) { return .success(.int(n)) }
            if let d = Double(literal), d.isFinite { return .success(.number(d)) }
            return .failure(.init(message: "number '\(literal)' is out of range", offset: startOffset, length: offset - startOffset))
        }

        mutating func string() -> Result<String, ExpressionSyntaxError> {
            let quote = bytes[i], startOffset = offset
            step()
            var out: [UInt8] = []
            while let c = peek() {
                if c == quote {
                    step()
                    return .success(String(decoding: out, as: UTF8.self))
                }
                if c == 0x5C, let next = peek(1) {
                    switch next {
                    case 0x6E: out.append(0x0A)
                    case 0x74: out.append(0x09)
                    case 0x5C, 0x22, 0x27: out.append(next)
                    default:
                        return .failure(.init(message: "unknown escape '\\\(scalar(at: i + 1))' in string", offset: offset, length: 2,
                                              hint: "escapes are \\\\ \\\" \\' \\n \\t"))
                    }
                    step(); step()
                    continue
                }
                let from = i
                step()
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[from..<i]))
            }
            return .failure(.init(message: "unterminated string", offset: startOffset, length: offset - startOffset,
                                  hint: "close the string with \(quote == 0x22 ? "\"" : "'")"))
        }
    }
}
