import Foundation

/// Runs blocking work (processes, waits) on a thread of its own, so it never holds one of the
/// few cooperative threads that async code, the engine's included, needs to make progress.
/// Check results with `#expect` after it returns: issues are recorded on the test's task.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// Polls a condition for up to `seconds` without blocking a thread: for effects of real
/// processes.
public func eventually(_ seconds: Double = 20, _ condition: @Sendable () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return condition()
}

/// Polls a condition for up to 10 s, blocking: only inside `offPool`.
@discardableResult
public func waitFor(_ condition: () -> Bool) -> Bool {
    for _ in 0..<1000 {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
