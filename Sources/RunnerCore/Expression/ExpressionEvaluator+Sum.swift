extension ExpressionEvaluator {
    /// `a + b + ...` left to right: text from the first string on (`null` is empty, a number
    /// or bool written as a step sees it in its environment), numbers added before it, an int
    /// while both sides are ints and the sum fits. A list, any other pair, or a sum out of
    /// range is `null`: the checker refuses what it can see, but a value of another type may
    /// still arrive (an unset param, a stored run's param that predates a change of type).
    static func sum<S: Sequence<Value>>(_ values: S) -> Value {
        var total: Value?
        // Appended to in place: a long chain joins in linear time.
        var text: String?
        for value in values {
            if case .list = value { return .null }
            if text != nil {
                text?.append(value.environmentText ?? "")
            } else if case .string(let s) = value {
                text = (total?.environmentText ?? "") + s
            } else {
                total = total.map { add($0, value) } ?? value
            }
        }
        return text.map(Value.string) ?? total ?? .null
    }

    private static func add(_ a: Value, _ b: Value) -> Value {
        switch (a, b) {
        case let (.int(x), .int(y)):
            let (total, overflow) = x.addingReportingOverflow(y)
            return overflow ? finite(Double(x) + Double(y)) : .int(total)
        case let (.int(x), .number(y)): return finite(Double(x) + y)
        case let (.number(x), .int(y)): return finite(x + Double(y))
        case let (.number(x), .number(y)): return finite(x + y)
        default: return .null
        }
    }

    private static func finite(_ d: Double) -> Value {
        d.isFinite ? .number(d) : .null
    }
}
