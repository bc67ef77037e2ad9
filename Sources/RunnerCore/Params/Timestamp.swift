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
        var scan = TimestampScanner(Array(text.utf8))
        let bad = ParseError(message: "'\(text)' is not an ISO 8601 timestamp",
                             hint: "write e.g. 2026-02-01 or 2026-02-01T09:00:00+09:00")
        guard let year = scan.digits(4), scan.take("-"), let month = scan.digits(2), scan.take("-"),
              let day = scan.digits(2) else { return .failure(bad) }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else {
            return .failure(ParseError(message: "'\(text)' is not a real date", hint: nil))
        }
        let midnight = daysFromCivil(year: year, month: month, day: day) * 86_400
        if scan.isAtEnd { return .success(Instant(epochSeconds: midnight, milliseconds: 0)) }
        guard scan.take("T") || scan.take("t") || scan.take(" ") else { return .failure(bad) }
        guard let (secondOfDay, millis) = scan.timeOfDay() else { return .failure(bad) }
        guard secondOfDay >= 0 else {
            return .failure(ParseError(message: "'\(text)' has an invalid time of day", hint: nil))
        }
        guard !scan.isAtEnd else {
            return .failure(ParseError(message: "'\(text)' has no time zone", hint: "add 'Z' for UTC or an offset like '+09:00'"))
        }
        guard let offset = scan.zoneOffset(), scan.isAtEnd else { return .failure(bad) }
        return .success(Instant(epochSeconds: midnight + Int64(secondOfDay) - offset, milliseconds: millis))
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

/// Reads a timestamp's bytes from the start: fixed-width numbers, single characters.
struct TimestampScanner {
    private let b: [UInt8]
    private var i = 0

    init(_ bytes: [UInt8]) { b = bytes }

    var isAtEnd: Bool { i == b.count }

    /// `n` ASCII digits as a number.
    mutating func digits(_ n: Int) -> Int? {
        guard i + n <= b.count else { return nil }
        var v = 0
        for k in i..<(i + n) {
            guard b[k] >= .zero, b[k] <= .nine else { return nil }
            v = v * 10 + Int(b[k] - .zero)
        }
        i += n
        return v
    }

    mutating func take(_ c: Unicode.Scalar) -> Bool {
        if i < b.count, b[i] == UInt8(ascii: c) { i += 1; return true }
        return false
    }

    /// `hh:mm[:ss[.fff]]`: the second of the day (-1 when a field is out of range) and the
    /// milliseconds; nil when it is not written so.
    mutating func timeOfDay() -> (Int, Int)? {
        guard let hour = digits(2), take(":"), let minute = digits(2) else { return nil }
        var second = 0, millis = 0
        if take(":") {
            guard let s = digits(2) else { return nil }
            second = s
            if take(".") || take(",") {
                guard let fraction = milliseconds() else { return nil }
                millis = fraction
            }
        }
        guard hour <= 23, minute <= 59, second <= 59 else { return (-1, 0) }
        return (hour * 3600 + minute * 60 + second, millis)
    }

    /// The digits of a fraction of a second, as milliseconds (at least one digit).
    private mutating func milliseconds() -> Int? {
        var millis = 0, scale = 100, any = false
        while i < b.count, b[i] >= .zero, b[i] <= .nine {
            millis += Int(b[i] - .zero) * scale
            scale /= 10
            any = true
            i += 1
        }
        return any ? millis : nil
    }

    /// `Z`, `+hh:mm`, `-hhmm`: seconds east of UTC.
    mutating func zoneOffset() -> Int64? {
        if take("Z") || take("z") { return 0 }
        let sign: Int64
        if take("+") { sign = 1 } else if take("-") { sign = -1 } else { return nil }
        guard let hours = digits(2) else { return nil }
        _ = take(":")
        guard let minutes = digits(2), hours <= 23, minutes <= 59 else { return nil }
        return sign * Int64(hours * 3600 + minutes * 60)
    }
}
