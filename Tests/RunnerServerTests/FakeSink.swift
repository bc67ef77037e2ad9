import Foundation
import RunnerCore
@testable import RunnerServer

/// An event stream's client in memory: keeps what is written; `stall` makes it read nothing
/// (its unsent bytes grow), `leave` hangs up.
final class FakeSink: EventSink, @unchecked Sendable {
    private let lock = Lock()
    private var written = ""
    private var unsent = 0
    private var isStalled = false
    private var isGone = false
    private var isClosed = false

    func write(_ text: String) -> Bool {
        lock.withLock {
            guard !isGone else { return false }
            written += text
            if isStalled { unsent += text.utf8.count }
            return true
        }
    }

    var pending: Int? { lock.withLock { isGone ? nil : unsent } }

    func close() { lock.withLock { isClosed = true } }

    func stall() { lock.withLock { isStalled = true } }
    func leave() { lock.withLock { isGone = true } }

    var text: String { lock.withLock { written } }
    var closed: Bool { lock.withLock { isClosed } }
}
