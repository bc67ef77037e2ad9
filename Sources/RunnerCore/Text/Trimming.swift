extension StringProtocol {
    /// Without leading and trailing spaces and tabs (Unicode category Zs and U+0009, what
    /// Foundation's `CharacterSet.whitespaces` holds).
    public func trimmingSpaces() -> String { trimming(where: Self.isSpace) }

    /// Without leading and trailing spaces, tabs and line breaks (`.whitespacesAndNewlines`).
    public func trimmingWhitespace() -> String { trimming(where: Self.isWhitespaceOrNewline) }

    private func trimming(where drop: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !drop($0) }),
              let last = scalars.lastIndex(where: { !drop($0) }) else { return "" }
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: scalars[first...last])
        return String(kept)
    }

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " || scalar == "\t" { return true }
        if scalar.isASCII { return false }
        return scalar.properties.generalCategory == .spaceSeparator
    }

    private static func isWhitespaceOrNewline(_ scalar: Unicode.Scalar) -> Bool {
        if isSpace(scalar) || (0x0A...0x0D).contains(scalar.value) || scalar.value == 0x85 { return true }
        if scalar.isASCII { return false }
        let category = scalar.properties.generalCategory
        return category == .lineSeparator || category == .paragraphSeparator
    }
}
