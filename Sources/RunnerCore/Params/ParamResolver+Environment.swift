/// A step receives each param as one environment variable, `PARAM_<NAME>=value`. A value
/// that cannot be one is refused where it is given, with the param's code, rather than
/// changed or lost later: execve copies each variable up to its first NUL, so a NUL would hand
/// the step a prefix that never passed the param's rules; and Linux refuses a string longer
/// than MAX_ARG_STRLEN with E2BIG, so an oversized value would fail every attempt at exec.
extension ParamResolver {
    /// The bytes a value of the param may have: one exec string (`ExecLimits`, MAX_ARG_STRLEN
    /// less the NUL) less `PARAM_<NAME>=`.
    public static func environmentRoom(for spec: ParamSpec) -> Int {
        ExecLimits.maxStringBytes - spec.environmentName.utf8.count - 1
    }

    /// Where the first NUL of the input is, as a problem; nil when there is none. Looked for in
    /// what was given, before anything parses it: a number or a boolean given as text must not
    /// be read up to its NUL and accepted.
    static func nulProblem(in input: ParamInput) -> Problem? {
        switch input {
        case .text(let text):
            return nulPosition(in: text).map { Self.nul("the value contains a NUL character at character \($0)") }
        case .value(let value):
            return nulProblem(in: value, item: nil)
        }
    }

    private static func nulProblem(in value: Value, item: Int?) -> Problem? {
        switch value {
        case .string(let text):
            guard let at = nulPosition(in: text) else { return nil }
            return Self.nul("\(item.map { "item \($0)" } ?? "the value") contains a NUL character at character \(at)")
        case .list(let items):
            for (n, item) in items.enumerated() {
                if let problem = nulProblem(in: item, item: n + 1) { return problem }
            }
            return nil
        case .null, .bool, .int, .number:
            return nil
        }
    }

    private static func nul(_ message: String) -> Problem {
        Problem(message, hint: DiagnosticCode.paramContainsNUL.help, code: .paramContainsNUL)
    }

    /// 1-based, in Unicode scalars; the value itself is never echoed (it may be a secret).
    private static func nulPosition(in text: String) -> Int? {
        guard text.utf8.contains(0) else { return nil }
        let scalars = text.unicodeScalars
        return scalars.firstIndex(of: "\u{0}").map { scalars.distance(from: scalars.startIndex, to: $0) + 1 }
    }

    /// Why the value, as the step would see it, does not fit in its variable; nil when it does.
    static func sizeProblem(_ value: Value, for spec: ParamSpec) -> Problem? {
        guard let bytes = environmentBytes(value) else { return nil }
        let room = environmentRoom(for: spec)
        guard bytes > room else { return nil }
        let joined: String
        if case .list = value { joined = " (its items joined one per line)" } else { joined = "" }
        let message = "the value is \(grouped(bytes)) bytes\(joined); $\(spec.environmentName) can hold at most \(grouped(room))"
        return Problem(message, hint: DiagnosticCode.paramTooLarge.help, code: .paramTooLarge)
    }

    /// `environmentText.utf8.count`, without joining a list's items to count them.
    private static func environmentBytes(_ value: Value) -> Int? {
        switch value {
        case .null: return nil
        case .string(let text): return text.utf8.count
        case .list(let items):
            let counts = items.compactMap(environmentBytes)
            return counts.reduce(0, +) + max(0, counts.count - 1)
        case .bool, .int, .number: return value.environmentText?.utf8.count
        }
    }

    /// `131072` → `131,072`.
    static func grouped(_ n: Int) -> String {
        var digits = String(n.magnitude)
        var out = ""
        while digits.count > 3 {
            out = "," + digits.suffix(3) + out
            digits.removeLast(3)
        }
        return (n < 0 ? "-" : "") + digits + out
    }
}
