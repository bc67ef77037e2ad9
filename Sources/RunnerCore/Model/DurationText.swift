/// Durations as pipelines write them: `500ms`, `30s`, `2m`, `1h30m`, `3d`.
public enum DurationText {
    public static let maximum: Duration = .seconds(365 * 86_400)

    public struct ParseError: Error, Hashable, Sendable {
        public var message: String
        public var hint: String?
    }

    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1),
    ]

    public static func parse(_ text: String) -> Result<Duration, ParseError> {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else {
            return .failure(ParseError(message: "empty duration", hint: "write e.g. '30s' or '2m'"))
        }
        var index = 0, lastUnitRank = -1, total: Int64 = 0
        while index < bytes.count {
            var number: Int64 = 0, digits = 0
            while index < bytes.count, bytes[index] >= .zero, bytes[index] <= .nine {
                number = number &* 10 &+ Int64(bytes[index] - .zero)
                digits += 1
                index += 1
                if digits > 12 { return .failure(tooLong(text)) }
            }
            guard digits > 0 else { return .failure(malformed(text)) }
            var unitEnd = index
            while unitEnd < bytes.count, !(bytes[unitEnd] >= .zero && bytes[unitEnd] <= .nine) { unitEnd += 1 }
            let unit = String(decoding: bytes[index..<unitEnd], as: UTF8.self)
            guard !unit.isEmpty else {
                return .failure(ParseError(
                    message: "duration '\(text)' has a number without a unit",
                    hint: "add a unit: '\(text)s' for seconds, '\(text)m' for minutes"))
            }
            if unit.hasPrefix(".") || unit.hasPrefix(",") {
                return .failure(ParseError(message: "duration '\(text)' has a fraction",
                                           hint: "use a smaller unit instead: '1500ms' rather than '1.5s'"))
            }
            guard let rank = units.firstIndex(where: { $0.suffix == unit }) else {
                return .failure(ParseError(
                    message: "duration '\(text)' has an unknown unit '\(unit)'",
                    hint: "units are d, h, m, s, ms" + (Suggestion.closest(to: unit, in: units.map(\.suffix)).map { "; did you mean '\($0)'?" } ?? "")))
            }
            guard rank > lastUnitRank else {
                return .failure(ParseError(
                    message: "duration '\(text)' repeats or misorders its units",
                    hint: "write units from largest to smallest, each once: '1h30m'"))
            }
            lastUnitRank = rank
            total = total &+ number &* units[rank].milliseconds
            if total > 365 * 86_400_000 || total < 0 { return .failure(tooLong(text)) }
            index = unitEnd
        }
        return .success(.milliseconds(total))
    }

    /// The canonical text of a duration (`1h30m`, `500ms`, `0s`).
    public static func format(_ duration: Duration) -> String {
        var ms = milliseconds(duration)
        guard ms > 0 else { return "0s" }
        var out = ""
        for (suffix, size) in units where ms >= size {
            out += "\(ms / size)\(suffix)"
            ms %= size
        }
        return out
    }

    public static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    private static func malformed(_ text: String) -> ParseError {
        ParseError(message: "'\(text)' is not a duration", hint: "write durations like '500ms', '30s', '2m', '1h30m', '3d'")
    }

    private static func tooLong(_ text: String) -> ParseError {
        ParseError(message: "duration '\(text)' is longer than 365 days", hint: nil)
    }
}
