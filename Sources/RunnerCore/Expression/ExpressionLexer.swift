/// Splits an expression into tokens. Offsets are in Characters.
struct ExpressionToken: Hashable {
    enum Kind: Hashable {
        case identifier(String)
        case string(String)
        case number(Value)
        case symbol(String)   // . == != && || ! ( ) [ ] ,
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
}

enum ExpressionLexer {
    static func tokenize(_ text: String) -> Result<[ExpressionToken], ExpressionSyntaxError> {
        let chars = Array(text)
        var tokens: [ExpressionToken] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            let start = i
            if c.isLetter || c == "_" {
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "-" { i += 1 }
                tokens.append(.init(kind: .identifier(String(chars[start..<i])), offset: start, length: i - start))
                continue
            }
            if c.isASCII, c.isNumber || (c == "-" && i + 1 < chars.count && chars[i + 1].isASCII && chars[i + 1].isNumber) {
                switch lexNumber(chars, &i) {
                case .success(let value): tokens.append(.init(kind: .number(value), offset: start, length: i - start))
                case .failure(let error): return .failure(error)
                }
                continue
            }
            if c == "\"" || c == "'" {
                switch lexString(chars, &i) {
                case .success(let s): tokens.append(.init(kind: .string(s), offset: start, length: i - start))
                case .failure(let error): return .failure(error)
                }
                continue
            }
            let pair = i + 1 < chars.count ? String([c, chars[i + 1]]) : ""
            if ["==", "!=", "&&", "||"].contains(pair) {
                tokens.append(.init(kind: .symbol(pair), offset: start, length: 2))
                i += 2
                continue
            }
            if pair == "${" {
                return .failure(.init(message: "'${' is not expression syntax", offset: start, length: 2,
                                      hint: "write the expression bare, e.g. `params.dry_run`, without ${{ }}"))
            }
            switch c {
            case ".", "!", "(", ")", "[", "]", ",":
                tokens.append(.init(kind: .symbol(String(c)), offset: start, length: 1))
                i += 1
            case "=":
                return .failure(.init(message: "unexpected '='", offset: start, hint: "compare with '=='"))
            case "&":
                return .failure(.init(message: "unexpected '&'", offset: start, hint: "'and' is written '&&'"))
            case "|":
                return .failure(.init(message: "unexpected '|'", offset: start, hint: "'or' is written '||'"))
            case "<", ">":
                return .failure(.init(message: "unexpected '\(c)': ordering comparisons are not part of the language", offset: start,
                                      hint: "expressions support == != in && || !"))
            default:
                return .failure(.init(message: "unexpected character '\(c)'", offset: start))
            }
        }
        tokens.append(.init(kind: .end, offset: chars.count, length: 1))
        return .success(tokens)
    }

    private static func lexNumber(_ chars: [Character], _ i: inout Int) -> Result<Value, ExpressionSyntaxError> {
        let start = i
        if chars[i] == "-" { i += 1 }
        while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
        var isDecimal = false
        if i < chars.count, chars[i] == ".", i + 1 < chars.count, chars[i + 1].isASCII, chars[i + 1].isNumber {
            isDecimal = true
            i += 1
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
        }
        if i < chars.count, chars[i].isLetter || chars[i] == "_" {
            return .failure(.init(message: "malformed number '\(String(chars[start...i]))'", offset: start, length: i - start + 1))
        }
        let text = String(chars[start..<i])
        if !isDecimal, let n = Int(text) { return .success(.int(n)) }
        if let d = Double(text), d.isFinite { return .success(.number(d)) }
        return .failure(.init(message: "number '\(text)' is out of range", offset: start, length: i - start))
    }

    private static func lexString(_ chars: [Character], _ i: inout Int) -> Result<String, ExpressionSyntaxError> {
        let quote = chars[i], start = i
        i += 1
        var out = ""
        while i < chars.count {
            let c = chars[i]
            if c == quote { i += 1; return .success(out) }
            if c == "\\", i + 1 < chars.count {
                let next = chars[i + 1]
                switch next {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "\\", "\"", "'": out.append(next)
                default:
                    return .failure(.init(message: "unknown escape '\\\(next)' in string", offset: i, length: 2,
                                          hint: "escapes are \\\\ \\\" \\' \\n \\t"))
                }
                i += 2
                continue
            }
            out.append(c)
            i += 1
        }
        return .failure(.init(message: "unterminated string", offset: start, length: chars.count - start,
                              hint: "close the string with \(quote)"))
    }
}
