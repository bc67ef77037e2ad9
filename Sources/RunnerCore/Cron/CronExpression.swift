import Foundation

/// A cron schedule: 5 fields (`minute hour day-of-month month day-of-week`) or a macro
/// (`@daily`). Parsed with exact error positions; `nextFire` walks wall-clock fields in the
/// schedule's time zone, skipping whole months, days and hours that cannot match.
///
/// Daylight-saving rule: a wall-clock time skipped by a change (02:30 on a spring-forward
/// day) does not fire that day; a time that occurs twice (01:30 on a fall-back day) fires
/// once, at its first occurrence.
public struct CronExpression: Sendable, Hashable {
    public let source: String
    let minutes: UInt64
    let hours: UInt64
    let daysOfMonth: UInt64
    let months: UInt64
    let daysOfWeek: UInt64
    let isDayOfMonthRestricted: Bool
    let isDayOfWeekRestricted: Bool

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    public static func parse(_ text: String) -> Result<CronExpression, CronParseError> {
        let scalars = Array(text.unicodeScalars)
        var tokens: [(text: String, offset: Int)] = []
        var i = 0
        while i < scalars.count {
            if scalars[i].properties.isWhitespace { i += 1; continue }
            let start = i
            while i < scalars.count, !scalars[i].properties.isWhitespace { i += 1 }
            tokens.append((String(String.UnicodeScalarView(scalars[start..<i])), start))
        }
        guard let first = tokens.first else {
            return .failure(CronParseError(message: "empty cron expression", offset: 0, length: 1,
                                           hint: "write 5 fields like '0 3 * * *', or a macro like '@daily'"))
        }
        if first.text.hasPrefix("@") {
            guard let expansion = macros[first.text.lowercased()] else {
                return .failure(CronParseError(message: "unknown cron macro '\(first.text)'", offset: first.offset, length: first.text.count,
                                               hint: Suggestion.hint(for: first.text, in: macros.keys.sorted())
                                                   ?? "macros: " + macros.keys.sorted().joined(separator: ", ")))
            }
            if tokens.count > 1 {
                return .failure(CronParseError(message: "a cron macro stands alone", offset: tokens[1].offset,
                                               length: tokens[1].text.count, hint: "remove what follows \(first.text)"))
            }
            return parseFields(expansion.split(separator: " ").map { (String($0), first.offset) }, source: text, macroLength: first.text.count)
        }
        guard tokens.count == 5 else {
            let hint = tokens.count == 6
                ? "6-field cron with seconds is not supported: write minute hour day-of-month month day-of-week"
                : "write minute hour day-of-month month day-of-week, e.g. '0 3 * * *'"
            let at = tokens.count > 5 ? tokens[5] : tokens[tokens.count - 1]
            return .failure(CronParseError(message: "expected 5 fields, found \(tokens.count)", offset: at.offset,
                                           length: max(1, at.text.count), hint: hint))
        }
        return parseFields(tokens, source: text, macroLength: nil)
    }

    private struct Field {
        let name: String
        let range: ClosedRange<Int>
        let names: [String]
        let nameBase: Int
    }

    private static let fields = [
        Field(name: "minute", range: 0...59, names: [], nameBase: 0),
        Field(name: "hour", range: 0...23, names: [], nameBase: 0),
        Field(name: "day of month", range: 1...31, names: [], nameBase: 0),
        Field(name: "month", range: 1...12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], nameBase: 1),
        Field(name: "day of week", range: 0...7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], nameBase: 0),
    ]

    private static func parseFields(_ tokens: [(text: String, offset: Int)], source: String, macroLength: Int?) -> Result<CronExpression, CronParseError> {
        var sets: [UInt64] = []
        for (index, token) in tokens.enumerated() {
            switch parseField(token.text, offset: token.offset, field: fields[index]) {
            case .success(let bits): sets.append(bits)
            case .failure(var error):
                if let macroLength { error = CronParseError(message: error.message, offset: token.offset, length: macroLength, hint: error.hint) }
                return .failure(error)
            }
        }
        var weekdays = sets[4]
        if weekdays & (1 << 7) != 0 { weekdays = (weekdays | 1) & ~(1 << 7) }
        return .success(CronExpression(
            source: source, minutes: sets[0], hours: sets[1], daysOfMonth: sets[2], months: sets[3], daysOfWeek: weekdays,
            isDayOfMonthRestricted: tokens[2].text != "*", isDayOfWeekRestricted: tokens[4].text != "*"))
    }

    private static func parseField(_ text: String, offset: Int, field: Field) -> Result<UInt64, CronParseError> {
        var bits: UInt64 = 0
        var partOffset = offset
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            defer { partOffset += part.unicodeScalars.count + 1 }
            guard !part.isEmpty else {
                return .failure(CronParseError(message: "empty item in the \(field.name) field", offset: max(offset, partOffset - 1),
                                               length: 1, hint: "remove the extra ','"))
            }
            switch parseItem(String(part), offset: partOffset, field: field) {
            case .success(let b): bits |= b
            case .failure(let e): return .failure(e)
            }
        }
        return .success(bits)
    }

    private static func parseItem(_ item: String, offset: Int, field: Field) -> Result<UInt64, CronParseError> {
        var body = Substring(item)
        var step = 1
        if let slash = item.firstIndex(of: "/") {
            body = item[..<slash]
            let stepText = item[item.index(after: slash)...]
            let stepOffset = offset + item[..<slash].unicodeScalars.count + 1
            guard let n = Int(stepText), n > 0 else {
                return .failure(CronParseError(message: stepText.isEmpty || Int(stepText) == nil
                                                   ? "step '\(stepText)' in the \(field.name) field is not a number"
                                                   : "step 0 in the \(field.name) field never advances",
                                               offset: stepOffset, length: max(1, stepText.count),
                                               hint: "a step is a positive number, e.g. */15"))
            }
            step = n
        }
        var low = field.range.lowerBound, high = field.range.upperBound
        if field.name == "day of week" { high = 6 }
        if body == "*" {
        } else if let dash = body.firstIndex(of: "-"), dash != body.startIndex {
            let startText = body[..<dash], endText = body[body.index(after: dash)...]
            let endOffset = offset + startText.unicodeScalars.count + 1
            switch (value(String(startText), offset: offset, field: field), value(String(endText), offset: endOffset, field: field)) {
            case (.failure(let e), _), (_, .failure(let e)): return .failure(e)
            case (.success(let a), .success(let b)):
                guard a <= b else {
                    return .failure(CronParseError(message: "range \(body) in the \(field.name) field runs backwards", offset: offset,
                                                   length: body.count, hint: "write the smaller value first: \(endText)-\(startText)"))
                }
                low = a
                high = b
            }
        } else {
            switch value(String(body), offset: offset, field: field) {
            case .failure(let e): return .failure(e)
            case .success(let v):
                low = v
                if step == 1 { high = v } else { high = field.name == "day of week" ? 6 : field.range.upperBound }
            }
        }
        var bits: UInt64 = 0
        var v = low
        while v <= high {
            bits |= 1 << UInt64(v)
            v += step
        }
        return .success(bits)
    }

    private static func value(_ text: String, offset: Int, field: Field) -> Result<Int, CronParseError> {
        if let n = Int(text), text.allSatisfy(\.isASCII) {
            guard field.range.contains(n) else {
                return .failure(CronParseError(message: "\(field.name) value \(n) is out of range \(field.range.lowerBound)-\(field.range.upperBound)",
                                               offset: offset, length: text.count,
                                               hint: "\(field.name) is \(field.range.lowerBound)-\(field.range.upperBound)"))
            }
            return .success(n)
        }
        if let index = field.names.firstIndex(of: text.uppercased()) { return .success(index + field.nameBase) }
        if text.isEmpty {
            return .failure(CronParseError(message: "missing value in the \(field.name) field", offset: offset, length: 1, hint: nil))
        }
        let hint = field.names.isEmpty
            ? "\(field.name) is a number \(field.range.lowerBound)-\(field.range.upperBound)"
            : Suggestion.hint(for: text.uppercased(), in: field.names) ?? "names: " + field.names.joined(separator: ", ")
        return .failure(CronParseError(message: "'\(text)' is not a valid \(field.name)", offset: offset, length: max(1, text.count), hint: hint))
    }

    // MARK: - Next firing

    /// The first firing strictly after `date`, in `timeZone`; nil if none within 5 years.
    public func nextFire(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let start = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date.addingTimeInterval(60))
        guard var y = start.year, var mo = start.month, var d = start.day, var h = start.hour, var mi = start.minute else { return nil }
        let lastYear = y + 5
        while y <= lastYear {
            if months & (1 << UInt64(mo)) == 0 {
                mo += 1; d = 1; h = 0; mi = 0
                if mo > 12 { mo = 1; y += 1 }
                continue
            }
            if d > Self.daysIn(month: mo, year: y) || !dayMatches(year: y, month: mo, day: d) {
                d += 1; h = 0; mi = 0
                if d > Self.daysIn(month: mo, year: y) {
                    d = 1; mo += 1
                    if mo > 12 { mo = 1; y += 1 }
                }
                continue
            }
            if hours & (1 << UInt64(h)) == 0 {
                h += 1; mi = 0
                if h > 23 { h = 0; d += 1 }
                continue
            }
            guard let minute = Self.firstBit(minutes, from: mi) else {
                h += 1; mi = 0
                if h > 23 { h = 0; d += 1 }
                continue
            }
            mi = minute
            let components = DateComponents(year: y, month: mo, day: d, hour: h, minute: mi)
            if let candidate = calendar.date(from: components), candidate > date {
                let back = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: candidate)
                // A wall-clock time in a DST gap does not exist: Foundation shifts it, so skip it.
                if back.hour == h, back.minute == mi, back.day == d { return candidate }
            }
            mi += 1
            if mi > 59 {
                mi = 0; h += 1
                if h > 23 { h = 0; d += 1 }
            }
        }
        return nil
    }

    /// Vixie cron: when both day fields are restricted, either may match.
    private func dayMatches(year: Int, month: Int, day: Int) -> Bool {
        let domMatch = daysOfMonth & (1 << UInt64(day)) != 0
        let weekday = Int((Timestamp.daysFromCivil(year: year, month: month, day: day) % 7 + 11) % 7)
        let dowMatch = daysOfWeek & (1 << UInt64(weekday)) != 0
        if isDayOfMonthRestricted && isDayOfWeekRestricted { return domMatch || dowMatch }
        return domMatch && dowMatch
    }

    private static func firstBit(_ bits: UInt64, from: Int) -> Int? {
        guard from < 64 else { return nil }
        let masked = bits & (~0 << UInt64(from))
        return masked == 0 ? nil : masked.trailingZeroBitCount
    }

    static func daysIn(month: Int, year: Int) -> Int { Timestamp.daysIn(month: month, year: year) }

    public static func == (a: CronExpression, b: CronExpression) -> Bool { a.source == b.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }
}

public struct CronParseError: Error, Sendable, Hashable {
    public let message: String
    /// Offset in Unicode scalars from the start of the text.
    public let offset: Int
    public let length: Int
    public let hint: String?

    public init(message: String, offset: Int, length: Int, hint: String?) {
        self.message = message
        self.offset = offset
        self.length = max(1, length)
        self.hint = hint
    }
}
