/// The naming rules of the format, in one place.
public enum NameRules {
    public static let maxLength = 64

    /// Pipeline names: `[a-z0-9][a-z0-9_-]*`.
    public static func isPipelineName(_ s: String) -> Bool {
        guard let first = s.utf8.first, s.utf8.count <= maxLength else { return false }
        return isLowerAlnum(first) && s.utf8.allSatisfy { isLowerAlnum($0) || $0 == .underscore || $0 == .dash }
    }

    /// Step and stage names: `[A-Za-z_][A-Za-z0-9_-]*`.
    public static func isStepName(_ s: String) -> Bool {
        guard let first = s.utf8.first, s.utf8.count <= maxLength else { return false }
        return (isAlpha(first) || first == .underscore) && s.utf8.allSatisfy { isAlnum($0) || $0 == .underscore || $0 == .dash }
    }

    /// Param, output and environment names: `[A-Za-z_][A-Za-z0-9_]*`.
    public static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, s.utf8.count <= 128 else { return false }
        return (isAlpha(first) || first == .underscore) && s.utf8.allSatisfy { isAlnum($0) || $0 == .underscore }
    }

    /// Error codes: `[A-Z][A-Z0-9_]*`.
    public static func isErrorCode(_ s: String) -> Bool {
        guard let first = s.utf8.first, s.utf8.count <= 128 else { return false }
        return (first >= .A && first <= .Z)
            && s.utf8.allSatisfy { ($0 >= .A && $0 <= .Z) || ($0 >= .zero && $0 <= .nine) || $0 == .underscore }
    }

    /// The environment variable part for a name: upper snake case, `-` becomes `_`, and a
    /// lower-to-upper boundary gets a `_` (`targetRef` → `TARGET_REF`).
    public static func environmentName(_ name: String) -> String {
        var out = ""
        out.reserveCapacity(name.utf8.count + 4)
        var previous: UInt8 = 0
        for byte in name.utf8 {
            let isUpper = byte >= .A && byte <= .Z
            let previousIsLowerOrDigit = (previous >= .a && previous <= .z) || (previous >= .zero && previous <= .nine)
            if isUpper && previousIsLowerOrDigit { out.append("_") }
            if byte == .dash {
                out.append("_")
            } else if byte >= .a && byte <= .z {
                out.append(Character(Unicode.Scalar(byte - 32)))
            } else {
                out.append(Character(Unicode.Scalar(byte)))
            }
            previous = byte
        }
        return out
    }

    /// Environment names the runner sets itself; a pipeline may not declare them.
    public static func isReservedEnvironmentName(_ name: String) -> Bool {
        name == "ITEM" || name.hasPrefix("RUNNER_") || name.hasPrefix("PARAM_") || name.hasPrefix("STEP_")
    }

    private static func isLowerAlnum(_ b: UInt8) -> Bool { (b >= .a && b <= .z) || (b >= .zero && b <= .nine) }
    private static func isAlpha(_ b: UInt8) -> Bool { (b >= .a && b <= .z) || (b >= .A && b <= .Z) }
    private static func isAlnum(_ b: UInt8) -> Bool { isAlpha(b) || (b >= .zero && b <= .nine) }
}

extension UInt8 {
    static let a = UInt8(ascii: "a"), z = UInt8(ascii: "z")
    static let A = UInt8(ascii: "A"), Z = UInt8(ascii: "Z")
    static let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
    static let underscore = UInt8(ascii: "_"), dash = UInt8(ascii: "-")
}
