import CHTTPDShim
import FoundationEssentials
import RunnerCore

/// A response body written while it is sent: another thread writes, then closes.
public final class HTTPStream: @unchecked Sendable {
    private let handle: OpaquePointer
    private let lock = Lock()
    private var closed = false

    init(_ handle: OpaquePointer) { self.handle = handle }

    var pointer: UnsafeMutableRawPointer { UnsafeMutableRawPointer(handle) }

    /// False once the client is gone, or when `text` would take the stream past its limit
    /// (then close).
    @discardableResult
    public func write(_ text: String) -> Bool {
        lock.withLock {
            guard !closed else { return false }
            return text.utf8CString.withUnsafeBufferPointer {
                runner_http_stream_write(handle, $0.baseAddress, $0.count - 1)
            } == 1
        }
    }

    /// Bytes written and not sent yet; nil once the client is gone.
    public var pending: Int? {
        lock.withLock {
            guard !closed else { return nil }
            let pending = runner_http_stream_pending(handle)
            return pending < 0 ? nil : Int(pending)
        }
    }

    public func close() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            runner_http_stream_close(handle)
        }
    }
}
