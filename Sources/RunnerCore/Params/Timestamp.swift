import FoundationEssentials

/// ISO 8601 timestamps as params accept them: `2026-02-01`, `2026-02-01T09:00:00+09:00`,
/// `2026-02-01T00:00:00.250Z`. Parsed by hand so the rules are exact and documented.
public enum Timestamp {
    public struct ParseError: Error, Hashable, Sendable {
        public var message: String
        public var hint: String?
    }

    /// Seconds since 1970-01-01T00:00:00Z and milliseconds.
    public struct Instant: Hashable, Sendable {
        public var epochSeconds: Int64
        public var milliseconds: Int
    }

    public static func parse(_ text: String) -> Result<Instant, ParseError> {
        let b = Array(text.utf8)
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in i..<(i + n) {
                guard b[k] >= .zero, b[k] <= .nine else { return nil }
                v = v * 10 + Int(b[k] - .zero)
            }
            i += n
            return v
        }
        func take(_ c: UInt8) -> Bool {
            if i < b.count, b[i] == c { i += 1; return true }
            return false
        }
        let bad = ParseError(message: "'\(text)' is not an ISO 8601 timestamp",
                             hint: "write e.g. 2026-02-01 or 2026-02-01T09:00:00+09:00")
        guard let year = digits(4), take(UInt8(ascii: "-")), let month = digits(2), take(UInt8(ascii: "-")),
              let day = digits(2) else { return .failure(bad) }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else {
            return .failure(ParseError(message: "'\(text)' is not a real date", hint: nil))
        }
        var seconds = daysFromCivil(year: year, month: month, day: day) * 86_400
        var millis = 0
        if i == b.count { return .success(Instant(epochSeconds: seconds, milliseconds: 0)) }
        guard take(UInt8(ascii: "T")) || take(UInt8(ascii: "t")) || take(UInt8(ascii: " ")) else { return .failure(bad) }
        guard let hour = digits(2), take(UInt8(ascii: ":")), let minute = digits(2) else { return .failure(bad) }
        var second = 0
        if take(UInt8(ascii: ":")) {
            guard let s = digits(2) else { return .failure(bad) }
            second = s
            if take(UInt8(ascii: ".")) || take(UInt8(ascii: ",")) {
                var scale = 100, any = false
                while i < b.count, b[i] >= .zero, b[i] <= .nine {
                    millis += Int(b[i] - .zero) * scale
                    scale /= 10
                    any = true
                    i += 1
                }
                guard any else { return .failure(bad) }
            }
        }
        guard hour <= 23, minute <= 59, second <= 59 else {
            return .failure(ParseError(message: "'\(text)' has an invalid time of day", hint: nil))
        }
        seconds += Int64(hour * 3600 + minute * 60 + second)
        guard i < b.count else {
            return .failure(ParseError(message: "'\(text)' has no time zone", hint: "add 'Z' for UTC or an offset like '+09:00'"))
        }
        if take(UInt8(ascii: "Z")) || take(UInt8(ascii: "z")) {
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign: Int64 = b[i] == UInt8(ascii: "+") ? 1 : -1
            i += 1
            guard let oh = digits(2) else { return .failure(bad) }
            _ = take(UInt8(ascii: ":"))
            guard let om = digits(2), oh <= 23, om <= 59 else { return .failure(bad) }
            seconds -= sign * Int64(oh * 3600 + om * 60)
        } else {
            return .failure(bad)
        }
        guard i == b.count else { return .failure(bad) }
        return .success(Instant(epochSeconds: seconds, milliseconds: millis))
    }

    /// `2026-02-01T00:00:00Z`, with `.250` when there are milliseconds.
    public static func format(_ instant: Instant) -> String {
        let days = instant.epochSeconds >= 0 ? instant.epochSeconds / 86_400 : (instant.epochSeconds - 86_399) / 86_400
        let secondOfDay = Int(instant.epochSeconds - days * 86_400)
        let (y, m, d) = civilFromDays(days)
        if (0...9999).contains(y) {
            // The usual case written as bytes: a run's JSON has several timestamps a step, and
            // the interpolation below is many times slower.
            var bytes = [UInt8](repeating: UInt8(ascii: "0"), count: instant.milliseconds > 0 ? 24 : 20)
            func put(_ v: Int, at end: Int, digits: Int) {
                var v = v
                for i in stride(from: end, to: end - digits, by: -1) {
                    bytes[i] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                }
            }
            put(y, at: 3, digits: 4)
            bytes[4] = UInt8(ascii: "-")
            put(m, at: 6, digits: 2)
            bytes[7] = UInt8(ascii: "-")
            put(d, at: 9, digits: 2)
            bytes[10] = UInt8(ascii: "T")
            put(secondOfDay / 3600, at: 12, digits: 2)
            bytes[13] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, at: 15, digits: 2)
            bytes[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, at: 18, digits: 2)
            if instant.milliseconds > 0 {
                bytes[19] = UInt8(ascii: ".")
                put(instant.milliseconds, at: 22, digits: 3)
            }
            bytes[bytes.count - 1] = UInt8(ascii: "Z")
            return String(decoding: bytes, as: UTF8.self)
        }
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        var out = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        if instant.milliseconds > 0 { out += "." + pad(instant.milliseconds, 3) }
        return out + "Z"
    }

    /// `2026-02-01T00:00:00.250Z` for a date (milliseconds only when there are some).
    public static func format(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let millis = Int(((date.timeIntervalSince1970 - Double(seconds)) * 1000).rounded(.down))
        return format(Instant(epochSeconds: seconds, milliseconds: min(999, max(0, millis))))
    }

    public static func normalize(_ text: String) -> Result<String, ParseError> {
        parse(text).map(format)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's days_from_civil.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d))
    }
}
