import Foundation
import Testing
import RunnerCore
import RunnerTestSupport
@testable import RunnerEngine

/// The event loop's own timers (poll's timeout, on the monotonic clock): what the executor's
/// step timeouts, retry delays and polls run on (issue 16, item 10).
@Suite struct EventLoopTimerTests {
    @Test func timersFireInTheirOrderAndACancelledOneNever() async throws {
        try await offPool {
            let loop = EventLoop()
            let fired = Protected<[Int]>([])
            let done = DispatchSemaphore(value: 0)
            _ = loop.schedule(after: 0.15) { fired.withLock { $0.append(3) }; done.signal() }
            _ = loop.schedule(after: 0.05) { fired.withLock { $0.append(1) } }
            let cancelled = loop.schedule(after: 0.1) { fired.withLock { $0.append(99) } }
            _ = loop.schedule(after: 0.1) { fired.withLock { $0.append(2) } }
            loop.cancelTimer(cancelled)
            #expect(done.wait(timeout: .now() + 10) == .success)
            #expect(fired.withLock { $0 } == [1, 2, 3])
        }
    }

    @Test func aTimerWaitsAtLeastItsDelay() async throws {
        try await offPool {
            let loop = EventLoop()
            let start = Monotonic.now()
            let elapsed = Protected<Double>(0)
            let done = DispatchSemaphore(value: 0)
            _ = loop.schedule(after: 0.2) { elapsed.withLock { $0 = start.elapsed }; done.signal() }
            #expect(done.wait(timeout: .now() + 10) == .success)
            #expect(elapsed.withLock { $0 } >= 0.2)
        }
    }
}
