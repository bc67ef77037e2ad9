import FoundationEssentials

/// A standard 5-field cron expression (`minute hour day-of-month month day-of-week`) or one of the
/// macros `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`.
///
/// Fields: `*`, a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (from `a` to the field's maximum),
/// and comma lists of these. Months may be written `JAN`-`DEC` and days of week `SUN`-`SAT`
/// (case-insensitive); day of week 0 and 7 are both Sunday, and a range may end on Sunday
/// (`FRI-SUN`, `5-0` and `5-7` all mean Friday to Sunday).
///
/// Day matching follows Vixie cron: when both day of month and day of week are restricted, a day
/// matches if EITHER matches; otherwise both must match. As in Vixie cron, a field counts as
/// unrestricted when it starts with `*`, so `*/2` in the day-of-month field does not switch on the
/// either-or rule.
public struct CronExpression: Sendable, Hashable {
    /// The text as it was parsed.
    public let source: String

    /// Allowed values as bit sets: bit `n` set means value `n` is allowed.
    let minutes: UInt64       // bits 0...59
    let hours: UInt64         // bits 0...23
    let daysOfMonth: UInt64   // bits 1...31
    let months: UInt64        // bits 1...12
    let daysOfWeek: UInt64    // bits 0...6, 0 = Sunday (7 is folded into 0)
    /// Whether the field starts with `*` (see the type's documentation for why it matters).
    let dayOfMonthIsWildcard: Bool
    let dayOfWeekIsWildcard: Bool

    /// Parses `text`; on failure the error locates the offending part in Characters of `text`.
    public static func parse(_ text: String) -> Result<CronExpression, CronParseError> {
        let parser = Parser(text: text)
        do {
            return .success(try parser.parse())
        } catch {
            return .failure(error)
        }
    }

    /// The first firing strictly after `date`, evaluated in `timeZone`; nil if none within 5 years.
    ///
    /// Firings are wall-clock times in `timeZone`. Daylight saving time:
    /// - Spring forward: a wall-clock time that does not exist that day (02:30 on the day New York
    ///   jumps from 02:00 to 03:00) does NOT fire; the next matching time that exists is used instead.
    ///   So `30 2 * * *` skips that day and fires at 02:30 the next day, while `*/15 * * * *` goes
    ///   straight from 01:45 to 03:00. A skipped time is never shifted to a different wall-clock time.
    /// - Fall back: a wall-clock time that happens twice (01:30 on the day New York goes from 02:00
    ///   back to 01:00) fires once, at its first occurrence (01:30 EDT); the repeated hour does not
    ///   fire again, for any expression.
    public func nextFire(after date: Date, in timeZone: TimeZone) -> Date? {
        let seconds = date.timeIntervalSince1970
        // Beyond about ±7,900 years the arithmetic below is not meaningful (and Double loses minutes).
        guard seconds.isFinite, abs(seconds) < 1.9e11 else { return nil }

        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let now = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        guard let year = now.year, let month = now.month, let day = now.day,
              let hour = now.hour, let minute = now.minute else { return nil }
        let limit = calendar.date(byAdding: .year, value: 5, to: date) ?? date.addingTimeInterval(5 * 366 * 86_400)

        // Walk wall-clock times from the minute after `date`'s, skipping whole months, days and hours
        // that cannot match, so each step costs O(1) and a 5-year search takes at most a few thousand steps.
        var wall = WallTime(year: year, month: month, day: day, hour: hour, minute: minute)
        wall.advanceMinute()
        let lastYear = year + 6  // wall-clock years within the 5-year limit, with a year of slack for the time zone
        while wall.year <= lastYear {
            guard let m = Self.firstBit(of: months, from: wall.month, through: 12) else {
                wall = WallTime(year: wall.year + 1, month: 1, day: 1, hour: 0, minute: 0)
                continue
            }
            if m != wall.month { wall = WallTime(year: wall.year, month: m, day: 1, hour: 0, minute: 0) }

            let lastDay = Self.daysInMonth(year: wall.year, month: wall.month)
            var d = wall.day
            while d <= lastDay && !dayMatches(year: wall.year, month: wall.month, day: d) { d += 1 }
            if d > lastDay { wall.advanceMonth(); continue }
            if d != wall.day { wall.day = d; wall.hour = 0; wall.minute = 0 }

            guard let h = Self.firstBit(of: hours, from: wall.hour, through: 23) else { wall.advanceDay(); continue }
            if h != wall.hour { wall.hour = h; wall.minute = 0 }

            guard let mi = Self.firstBit(of: minutes, from: wall.minute, through: 59) else { wall.advanceHour(); continue }
            wall.minute = mi

            // A matching wall-clock time: fire at its first occurrence, if it exists and is still to come.
            if let instant = Self.firstInstant(of: wall, in: timeZone) {
                if instant > limit { return nil }
                if instant > date { return instant }
            }
            wall.advanceMinute()
        }
        return nil
    }

    private func dayMatches(year: Int, month: Int, day: Int) -> Bool {
        let byDayOfMonth = daysOfMonth & (1 << UInt64(day)) != 0
        let byDayOfWeek = daysOfWeek & (1 << UInt64(Self.weekday(year: year, month: month, day: day))) != 0
        if dayOfMonthIsWildcard || dayOfWeekIsWildcard { return byDayOfMonth && byDayOfWeek }
        return byDayOfMonth || byDayOfWeek
    }
}

/// Why a cron expression was rejected, and where.
public struct CronParseError: Error, Sendable, Hashable {
    /// Lowercase, names the thing: "minute value 61 is out of range 0-59".
    public let message: String
    /// Offset in Characters from the start of the text where the problem is (for a caret).
    public let offset: Int
    /// Length in Characters of the offending part (>= 1).
    public let length: Int
    /// What to do about it, e.g. "minute is 0-59", or "did you mean '@daily'?".
    public let hint: String?

    public init(message: String, offset: Int, length: Int, hint: String? = nil) {
        self.message = message
        self.offset = max(0, offset)
        self.length = max(1, length)
        self.hint = hint
    }
}

// MARK: - Calendar arithmetic (proleptic Gregorian, wall-clock)

extension CronExpression {
    /// A wall-clock minute; only ever moved forward to a valid date.
    fileprivate struct WallTime {
        var year: Int, month: Int, day: Int, hour: Int, minute: Int

        mutating func advanceMonth() {
            if month == 12 { year += 1; month = 1 } else { month += 1 }
            day = 1; hour = 0; minute = 0
        }

        mutating func advanceDay() {
            if day >= CronExpression.daysInMonth(year: year, month: month) { advanceMonth(); return }
            day += 1; hour = 0; minute = 0
        }

        mutating func advanceHour() {
            if hour == 23 { advanceDay(); return }
            hour += 1; minute = 0
        }

        mutating func advanceMinute() {
            if minute == 59 { advanceHour(); return }
            minute += 1
        }
    }

    /// The smallest set bit of `mask` in `from...through`, if any.
    fileprivate static func firstBit(of mask: UInt64, from: Int, through: Int) -> Int? {
        guard from <= through else { return nil }
        let candidates = mask >> UInt64(from)
        guard candidates != 0 else { return nil }
        let bit = from + candidates.trailingZeroBitCount
        return bit <= through ? bit : nil
    }

    fileprivate static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    fileprivate static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (H. Hinnant's days_from_civil).
    fileprivate static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// 0 = Sunday ... 6 = Saturday.
    fileprivate static func weekday(year: Int, month: Int, day: Int) -> Int {
        let days = daysSinceEpoch(year: year, month: month, day: day)
        return ((days % 7) + 7 + 4) % 7  // 1970-01-01 was a Thursday
    }

    /// The earliest instant whose wall-clock time in `timeZone` is `wall`, or nil if the zone skips it.
    ///
    /// Done by hand with UTC offsets rather than `Calendar.date(from:)`, whose handling of skipped and
    /// repeated times is not specified (and differs between platforms).
    fileprivate static func firstInstant(of wall: WallTime, in timeZone: TimeZone) -> Date? {
        let days = daysSinceEpoch(year: wall.year, month: wall.month, day: wall.day)
        let local = days * 86_400 + wall.hour * 3_600 + wall.minute * 60  // the wall time read as UTC
        var best: Int?
        // Any offset in force at this wall time is in force within a day of it; try each.
        for probe in [local - 86_400, local, local + 86_400] {
            let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(probe)))
            let instant = local - offset
            if timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))) == offset {
                best = min(best ?? instant, instant)
            }
        }
        return best.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }
}

// MARK: - Parsing

extension CronExpression {
    /// One of the five fields.
    fileprivate struct FieldSpec {
        let name: String
        let min: Int
        let max: Int
        /// The highest value a `*` or an open `a/n` runs to (day of week: 6, so Sunday counts once).
        let runsTo: Int
        /// Three-letter names for `nameBase`, `nameBase + 1`, ...
        let names: [String]
        let nameBase: Int
        let rangeHint: String

        static let minute = FieldSpec(name: "minute", min: 0, max: 59, runsTo: 59, names: [], nameBase: 0,
                                      rangeHint: "minute is 0-59")
        static let hour = FieldSpec(name: "hour", min: 0, max: 23, runsTo: 23, names: [], nameBase: 0,
                                    rangeHint: "hour is 0-23")
        static let dayOfMonth = FieldSpec(name: "day of month", min: 1, max: 31, runsTo: 31, names: [], nameBase: 0,
                                          rangeHint: "day of month is 1-31")
        static let month = FieldSpec(name: "month", min: 1, max: 12, runsTo: 12,
                                     names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                             "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
                                     nameBase: 1, rangeHint: "month is 1-12 or JAN-DEC")
        static let dayOfWeek = FieldSpec(name: "day of week", min: 0, max: 7, runsTo: 6,
                                         names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
                                         nameBase: 0, rangeHint: "day of week is 0-7 (0 and 7 are Sunday) or SUN-SAT")

        var isDayOfWeek: Bool { name == FieldSpec.dayOfWeek.name }

        /// How a value is written back in a hint: by name where the field has names.
        func spelling(_ value: Int) -> String {
            let index = value - nameBase
            return names.indices.contains(index) ? names[index] : String(value)
        }
    }

    fileprivate static let macros: [(name: String, expansion: String)] = [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@hourly", "0 * * * *"),
    ]

    fileprivate static let fieldsHint = "write minute hour day-of-month month day-of-week, e.g. '0 3 * * *'"

    fileprivate struct Parser {
        let text: String
        let chars: [Character]

        init(text: String) {
            self.text = text
            self.chars = Array(text)
        }

        private func error(_ message: String, at offset: Int, length: Int = 1, hint: String?) -> CronParseError {
            CronParseError(message: message, offset: offset, length: length, hint: hint)
        }

        /// The whitespace-separated fields, as half-open Character ranges.
        private func fields() -> [Range<Int>] {
            var result: [Range<Int>] = []
            var i = 0
            while i < chars.count {
                if chars[i].isWhitespace { i += 1; continue }
                let start = i
                while i < chars.count && !chars[i].isWhitespace { i += 1 }
                result.append(start..<i)
            }
            return result
        }

        func parse() throws(CronParseError) -> CronExpression {
            let fields = fields()
            guard let first = fields.first else {
                throw error("empty cron expression", at: 0, length: chars.count,
                            hint: CronExpression.fieldsHint + ", or a macro like '@daily'")
            }
            if chars[first.lowerBound] == "@" { return try macro(fields) }
            guard fields.count == 5 else { throw fieldCount(fields) }

            let specs: [FieldSpec] = [.minute, .hour, .dayOfMonth, .month, .dayOfWeek]
            var masks: [UInt64] = []
            for (spec, range) in zip(specs, fields) { masks.append(try field(spec, range)) }
            return CronExpression(source: text, minutes: masks[0], hours: masks[1], daysOfMonth: masks[2],
                                  months: masks[3], daysOfWeek: masks[4],
                                  dayOfMonthIsWildcard: chars[fields[2].lowerBound] == "*",
                                  dayOfWeekIsWildcard: chars[fields[4].lowerBound] == "*")
        }

        private func macro(_ fields: [Range<Int>]) throws(CronParseError) -> CronExpression {
            let word = String(chars[fields[0]])
            let lower = word.lowercased()
            guard let expansion = CronExpression.macros.first(where: { $0.name == lower })?.expansion else {
                let hint: String
                if lower == "@reboot" {
                    hint = "@reboot is not supported: a schedule fires at times; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"
                } else if let guess = suggestion(for: lower, among: CronExpression.macros.map(\.name), within: 2) {
                    hint = "did you mean '\(guess)'?"
                } else {
                    hint = "use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly, or 5 fields"
                }
                throw error("unknown cron macro '\(word)'", at: fields[0].lowerBound, length: fields[0].count, hint: hint)
            }
            if fields.count > 1 {
                let rest = fields[1].lowerBound..<fields[fields.count - 1].upperBound
                throw error("'\(word)' stands alone: a macro takes no other fields", at: rest.lowerBound,
                            length: rest.count, hint: "write '\(word)' alone, or 5 fields instead of the macro")
            }
            // The expansions are valid by construction.
            guard case .success(let expanded) = CronExpression.parse(expansion) else {
                preconditionFailure("cron macro \(word) expands to an invalid expression")
            }
            return CronExpression(source: text, minutes: expanded.minutes, hours: expanded.hours,
                                  daysOfMonth: expanded.daysOfMonth, months: expanded.months,
                                  daysOfWeek: expanded.daysOfWeek,
                                  dayOfMonthIsWildcard: expanded.dayOfMonthIsWildcard,
                                  dayOfWeekIsWildcard: expanded.dayOfWeekIsWildcard)
        }

        private func fieldCount(_ fields: [Range<Int>]) -> CronParseError {
            let found = fields.count
            let message = "expected 5 fields, found \(found)"
            if found > 5 {
                // Point at the surplus fields.
                let surplus = fields[5].lowerBound..<fields[found - 1].upperBound
                let hint = found == 6
                    ? "6-field cron (with a seconds field) is not supported; " + CronExpression.fieldsHint
                    : CronExpression.fieldsHint
                return error(message, at: surplus.lowerBound, length: surplus.count, hint: hint)
            }
            // Too few: point at the last field, after which more were expected.
            let last = fields[found - 1]
            var hint = CronExpression.fieldsHint
            if found == 1 {
                let word = "@" + String(chars[last]).lowercased()
                if let guess = suggestion(for: word, among: CronExpression.macros.map(\.name), within: 1) {
                    hint = "did you mean '\(guess)'?"
                }
            }
            return error(message, at: last.lowerBound, length: last.count, hint: hint)
        }

        /// A comma list of items.
        private func field(_ spec: FieldSpec, _ range: Range<Int>) throws(CronParseError) -> UInt64 {
            var mask: UInt64 = 0
            var start = range.lowerBound
            var index = 0
            while true {
                var end = start
                while end < range.upperBound && chars[end] != "," { end += 1 }
                if end == start {
                    // Point at the comma before the empty item (or after it, when it is the first).
                    throw error("empty item in the \(spec.name) list", at: index > 0 ? start - 1 : start,
                                hint: "remove the extra ',' or put a value between the commas")
                }
                mask |= try item(spec, start..<end)
                if end == range.upperBound { return mask }
                start = end + 1
                index += 1
            }
        }

        /// `*`, `a`, `a-b`, each optionally followed by `/step`.
        private func item(_ spec: FieldSpec, _ range: Range<Int>) throws(CronParseError) -> UInt64 {
            let slash = range.first { chars[$0] == "/" }
            let base = range.lowerBound..<(slash ?? range.upperBound)
            var low: Int
            var high: Int
            if base.isEmpty {
                throw error("missing value before '/' in \(spec.name)", at: base.lowerBound,
                            hint: "write '*/n' for every n-th \(spec.name), e.g. '*/5'")
            } else if base.count == 1 && chars[base.lowerBound] == "*" {
                low = spec.min
                high = spec.runsTo
            } else if let dash = base.first(where: { chars[$0] == "-" }) {
                if dash == base.lowerBound {
                    throw error("\(spec.name) range is missing its start value", at: dash, hint: spec.rangeHint)
                }
                if dash == base.upperBound - 1 {
                    throw error("\(spec.name) range is missing its end value", at: dash, hint: spec.rangeHint)
                }
                low = try value(spec, base.lowerBound..<dash)
                high = try value(spec, (dash + 1)..<base.upperBound)
                if spec.isDayOfWeek && high == 0 && low > 0 { high = 7 }  // FRI-SUN: Sunday closes a range as 7
                if low > high {
                    let written = String(chars[base])
                    let lowText = String(chars[base.lowerBound..<dash])
                    let highText = String(chars[(dash + 1)..<base.upperBound])
                    throw error("\(spec.name) range \(written) runs backwards", at: base.lowerBound, length: base.count,
                                hint: "ranges do not wrap around; write '\(lowText)-\(spec.spelling(spec.runsTo)),\(spec.spelling(spec.min))-\(highText)'")
                }
            } else {
                low = try value(spec, base)
                high = slash == nil ? low : Swift.max(spec.runsTo, low)  // a/n runs from a to the maximum
            }

            var step = 1
            if let slash {
                let stepRange = (slash + 1)..<range.upperBound
                if stepRange.isEmpty {
                    throw error("missing step after '/' in \(spec.name)", at: slash,
                                hint: "write a whole number after '/', e.g. '*/5'")
                }
                let stepText = String(chars[stepRange])
                guard let parsed = Self.number(stepText) else {
                    throw error("\(spec.name) step '\(stepText)' is not a number", at: stepRange.lowerBound,
                                length: stepRange.count, hint: "a step is a whole number, e.g. '*/5'")
                }
                if parsed == 0 {
                    throw error("\(spec.name) step 0 is not allowed", at: stepRange.lowerBound,
                                length: stepRange.count, hint: "a step is at least 1, e.g. '*/5'")
                }
                let largest = spec.max - spec.min
                if parsed > largest {
                    throw error("\(spec.name) step \(stepText) is larger than the \(spec.name) range",
                                at: stepRange.lowerBound, length: stepRange.count,
                                hint: "\(spec.rangeHint), so a step is at most \(largest)")
                }
                step = parsed
            }

            var mask: UInt64 = 0
            for v in stride(from: low, through: high, by: step) {
                mask |= 1 << UInt64(spec.isDayOfWeek ? v % 7 : v)
            }
            return mask
        }

        /// A number or a name, in range for the field.
        private func value(_ spec: FieldSpec, _ range: Range<Int>) throws(CronParseError) -> Int {
            for i in range where !Self.isASCIIDigit(chars[i]) && !Self.isASCIILetter(chars[i]) {
                throw unexpected(chars[i], at: i, in: spec)
            }
            let token = String(chars[range])
            if let number = Self.number(token) {
                guard number >= spec.min && number <= spec.max else {
                    throw error("\(spec.name) value \(token) is out of range \(spec.min)-\(spec.max)",
                                at: range.lowerBound, length: range.count, hint: spec.rangeHint)
                }
                return number
            }
            let upper = token.uppercased()
            if let index = spec.names.firstIndex(of: upper) { return spec.nameBase + index }

            var hint = spec.rangeHint
            if token.allSatisfy(Self.isASCIILetter) {
                if upper.count > 3, spec.names.contains(String(upper.prefix(3))) {
                    hint = "did you mean '\(upper.prefix(3))'?"  // MONDAY, JANUARY: names are three letters
                } else if let guess = suggestion(for: upper, among: spec.names, within: 1) {
                    hint = "did you mean '\(guess)'?"
                } else if ["L", "W", "LW"].contains(upper) || (upper.hasSuffix("W") && spec.name == FieldSpec.dayOfMonth.name) {
                    hint = "'\(token)' is Quartz syntax and is not supported; \(spec.rangeHint)"
                }
            }
            throw error("'\(token)' is not a valid \(spec.name)", at: range.lowerBound, length: range.count, hint: hint)
        }

        private func unexpected(_ c: Character, at offset: Int, in spec: FieldSpec) -> CronParseError {
            let hint = switch c {
            case "?": "'?' is Quartz syntax and is not supported; use '*'"
            case "#": "'#' (n-th weekday of the month) is not supported"
            case "*": "'*' stands alone in an item, or starts a step like '*/5'"
            case "-": "a range has one '-', e.g. '1-5'"
            default: "\(spec.rangeHint); combine values with ',', '-' and '/'"
            }
            return error("unexpected character '\(c)' in \(spec.name)", at: offset, hint: hint)
        }

        /// A whole number of ASCII digits (saturating, so huge values are still reported as out of range).
        private static func number(_ text: String) -> Int? {
            guard !text.isEmpty, text.allSatisfy(isASCIIDigit) else { return nil }
            var value = 0
            for c in text.unicodeScalars {
                value = Swift.min(value * 10 + Int(c.value - 48), 1_000_000_000)
            }
            return value
        }

        private static func isASCIIDigit(_ c: Character) -> Bool { c >= "0" && c <= "9" && c.isASCII }
        private static func isASCIILetter(_ c: Character) -> Bool {
            c.isASCII && c.isLetter
        }

        /// The closest candidate within `limit` edits (adjacent swaps count as one), if any.
        private func suggestion(for word: String, among candidates: [String], within limit: Int) -> String? {
            var best: (candidate: String, distance: Int)?
            for candidate in candidates {
                let d = Self.editDistance(Array(word.lowercased()), Array(candidate.lowercased()))
                if d <= limit && d < (best?.distance ?? .max) { best = (candidate, d) }
            }
            return best?.candidate
        }

        /// Optimal string alignment distance.
        private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
            if a.isEmpty { return b.count }
            if b.isEmpty { return a.count }
            var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
            for i in 0...a.count { table[i][0] = i }
            for j in 0...b.count { table[0][j] = j }
            for i in 1...a.count {
                for j in 1...b.count {
                    let cost = a[i - 1] == b[j - 1] ? 0 : 1
                    table[i][j] = Swift.min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                    if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                        table[i][j] = Swift.min(table[i][j], table[i - 2][j - 2] + 1)
                    }
                }
            }
            return table[a.count][b.count]
        }
    }
}
