import Foundation

/// Values added from several threads.
public final class Collected<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []

    public init() {}

    public func add(_ value: T) { lock.lock(); items.append(value); lock.unlock() }

    public var values: [T] { lock.lock(); defer { lock.unlock() }; return items }
}
