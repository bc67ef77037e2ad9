import Foundation
import RunnerCore

/// State other threads change, which an async test waits on without sleeping: `wait` returns
/// as soon as an update makes its condition true, or false after `timeout` seconds (a bound
/// that fails the test, never a delay it relies on).
public final class Observed<State: Sendable>: @unchecked Sendable {
    private struct Waiter {
        var isSatisfied: @Sendable (State) -> Bool
        var continuation: CheckedContinuation<Bool, Never>
        var timeout: Task<Void, Never>?
    }

    private let lock = Lock()
    private var state: State
    private var waiters: [Int: Waiter] = [:]
    private var lastID = 0

    public init(_ state: State) { self.state = state }

    public var value: State { lock.withLock { state } }

    /// Changes the state; the waiters whose condition now holds return.
    public func update(_ body: (inout State) -> Void) {
        lock.lock()
        body(&state)
        let done = waiters.filter { $0.value.isSatisfied(state) }
        for id in done.keys { waiters[id] = nil }
        lock.unlock()
        for waiter in done.values {
            waiter.timeout?.cancel()
            waiter.continuation.resume(returning: true)
        }
    }

    /// Waits until `condition` holds for the state; false when `timeout` seconds passed first.
    public func wait(timeout: Double = 30, until condition: @escaping @Sendable (State) -> Bool) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            lock.lock()
            guard !condition(state) else {
                lock.unlock()
                return continuation.resume(returning: true)
            }
            lastID += 1
            let id = lastID
            waiters[id] = Waiter(isSatisfied: condition, continuation: continuation)
            waiters[id]?.timeout = Task { [weak self] in
                try? await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
                self?.expire(id)
            }
            lock.unlock()
        }
    }

    private func expire(_ id: Int) {
        guard let waiter = lock.withLock({ waiters.removeValue(forKey: id) }) else { return }
        waiter.continuation.resume(returning: false)
    }
}
