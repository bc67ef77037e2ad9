import FoundationEssentials

/// How a contract writes timestamps, in the pattern letters its specification uses
/// (`yyyy-MM-dd'T'HH:mm:ss.SSSxxx` → `2026-12-07T12:49:35.123+00:00`). Always UTC: runner
/// records UTC instants, and a contract that shows an offset shows `+00:00` (`xxx`) or `Z`
/// (`XXX`). `rfc3339` is the runner's own form (milliseconds only when not zero, `Z`).
public struct TimeFormat: Hashable, Sendable {
    public enum Piece: Hashable, Sendable {
        case year, month, day, hour, minute, second
        /// `S`…`SSS`: that many digits of the fraction.
        case fraction(Int)
        /// `xxx` → `+00:00`, `XXX` → `Z`.
        case offset(zulu: Bool)
        case literal(String)
    }

    public var pieces: [Piece]

    public static let rfc3339 = TimeFormat(pieces: [])

    /// The pattern's pieces, or why it cannot be read (the offending letter's offset).
    public struct ParseError: Error, Sendable {
        public var message: String
        /// Where in the pattern, in characters.
        public var offset: Int
    }

    public static func parse(_ pattern: String) -> Result<TimeFormat, ParseError> {
        if pattern == "rfc3339" { return .success(.rfc3339) }
        let chars = Array(pattern)
        var pieces: [Piece] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            var run = 1
            while i + run < chars.count, chars[i + run] == c { run += 1 }
            switch (c, run) {
            case ("'", _):
                guard let end = chars[(i + 1)...].firstIndex(of: "'") else {
                    return .failure(ParseError(message: "a quote opened here is never closed", offset: i))
                }
                pieces.append(.literal(end == i + 1 ? "'" : String(chars[(i + 1)..<end])))
                i = end + 1
                continue
            case ("y", 4): pieces.append(.year)
            case ("M", 2): pieces.append(.month)
            case ("d", 2): pieces.append(.day)
            case ("H", 2): pieces.append(.hour)
            case ("m", 2): pieces.append(.minute)
            case ("s", 2): pieces.append(.second)
            case ("S", 1...9): pieces.append(.fraction(run))
            case ("x", 3): pieces.append(.offset(zulu: false))
            case ("X", 3): pieces.append(.offset(zulu: true))
            default:
                if c.isLetter {
                    return .failure(ParseError(message: "'\(String(repeating: c, count: run))' is not a pattern this "
                                               + "runner writes (yyyy MM dd HH mm ss S…SSS xxx XXX, text in quotes)",
                                               offset: i))
                }
                pieces.append(.literal(String(repeating: c, count: run)))
            }
            i += run
        }
        return .success(TimeFormat(pieces: pieces))
    }

    public func format(_ date: Date) -> String {
        if pieces.isEmpty { return Timestamp.format(date) }
        let millis = (date.timeIntervalSince1970 * 1000).rounded()
        let seconds = Int64((millis / 1000).rounded(.down))
        let fraction = Int(millis - Double(seconds) * 1000)
        let civil = Self.civil(seconds)
        var out = ""
        for piece in pieces {
            switch piece {
            case .year: out += Self.pad(civil.year, 4)
            case .month: out += Self.pad(civil.month, 2)
            case .day: out += Self.pad(civil.day, 2)
            case .hour: out += Self.pad(civil.hour, 2)
            case .minute: out += Self.pad(civil.minute, 2)
            case .second: out += Self.pad(civil.second, 2)
            case .fraction(let digits):
                let text = Self.pad(fraction, 3) + String(repeating: "0", count: max(0, digits - 3))
                out += text.prefix(digits)
            case .offset(let zulu): out += zulu ? "Z" : "+00:00"
            case .literal(let text): out += text
            }
        }
        return out
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let text = String(n)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    private static func civil(_ epochSeconds: Int64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secondsOfDay = Int(epochSeconds - days * 86_400)
        let (year, month, day) = Timestamp.civilFromDays(days)
        return (year, month, day, secondsOfDay / 3600, secondsOfDay % 3600 / 60, secondsOfDay % 60)
    }
}
