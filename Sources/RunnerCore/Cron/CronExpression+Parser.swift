import FoundationEssentials

// MARK: - Parsing

extension CronExpression {
    /// One of the five fields.
    struct FieldSpec {
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

    static let macros: [(name: String, expansion: String)] = [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@hourly", "0 * * * *"),
    ]

    static let fieldsHint = "write minute hour day-of-month month day-of-week, e.g. '0 3 * * *'"

    struct Parser {
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
            // The expansions are a fixed table of valid expressions: never thrown, but an
            // error rather than a trap if the table were ever wrong.
            guard case .success(let expanded) = CronExpression.parse(expansion) else {
                throw error("cron macro '\(word)' has no valid expansion", at: fields[0].lowerBound,
                            length: fields[0].count, hint: "write the 5 fields instead of the macro")
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
            let (low, high) = try bounds(spec, base, hasStep: slash != nil)
            var step = 1
            if let slash { step = try self.step(spec, after: slash, to: range.upperBound) }
            var mask: UInt64 = 0
            for v in stride(from: low, through: high, by: step) {
                mask |= 1 << UInt64(spec.isDayOfWeek ? v % 7 : v)
            }
            return mask
        }

        /// The first and last value of an item's part before its `/step`.
        private func bounds(_ spec: FieldSpec, _ base: Range<Int>, hasStep: Bool) throws(CronParseError) -> (Int, Int) {
            if base.isEmpty {
                throw error("missing value before '/' in \(spec.name)", at: base.lowerBound,
                            hint: "write '*/n' for every n-th \(spec.name), e.g. '*/5'")
            }
            if base.count == 1 && chars[base.lowerBound] == "*" { return (spec.min, spec.runsTo) }
            guard let dash = base.first(where: { chars[$0] == "-" }) else {
                let low = try value(spec, base)
                return (low, hasStep ? Swift.max(spec.runsTo, low) : low)  // a/n runs from a to the maximum
            }
            if dash == base.lowerBound {
                throw error("\(spec.name) range is missing its start value", at: dash, hint: spec.rangeHint)
            }
            if dash == base.upperBound - 1 {
                throw error("\(spec.name) range is missing its end value", at: dash, hint: spec.rangeHint)
            }
            let low = try value(spec, base.lowerBound..<dash)
            var high = try value(spec, (dash + 1)..<base.upperBound)
            if spec.isDayOfWeek && high == 0 && low > 0 { high = 7 }  // FRI-SUN: Sunday closes a range as 7
            if low > high {
                let written = String(chars[base])
                let lowText = String(chars[base.lowerBound..<dash])
                let highText = String(chars[(dash + 1)..<base.upperBound])
                throw error("\(spec.name) range \(written) runs backwards", at: base.lowerBound, length: base.count,
                            hint: "ranges do not wrap around; write "
                                + "'\(lowText)-\(spec.spelling(spec.runsTo)),\(spec.spelling(spec.min))-\(highText)'")
            }
            return (low, high)
        }

        /// The step written after the `/` at `slash`.
        private func step(_ spec: FieldSpec, after slash: Int, to end: Int) throws(CronParseError) -> Int {
            let stepRange = (slash + 1)..<end
            if stepRange.isEmpty {
                throw error("missing step after '/' in \(spec.name)", at: slash, hint: "write a whole number after '/', e.g. '*/5'")
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
            return parsed
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
                let d = Suggestion.editDistance(word.lowercased(), candidate.lowercased())
                if d <= limit && d < (best?.distance ?? .max) { best = (candidate, d) }
            }
            return best?.candidate
        }
    }
}
