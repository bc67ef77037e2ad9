/// The name of a step, as declared (`promote`), or of a for_each instance (`promote[app-a]`).
public struct StepName: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    public static func < (lhs: StepName, rhs: StepName) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The name of the instance of a for_each step for one item.
    public func instance(_ item: String) -> StepName { StepName("\(rawValue)[\(item)]") }
}
