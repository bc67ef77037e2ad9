/// Where an event stream's text goes: a client's HTTP stream (a fake in tests). Bounded: a
/// write past its limit fails, and the hub makes nothing for it while much is unsent.
protocol EventSink: AnyObject, Sendable {
    /// False once the client is gone, or when `text` would take it past its limit.
    @discardableResult
    func write(_ text: String) -> Bool
    /// Bytes written and not sent yet; nil once the client is gone.
    var pending: Int? { get }
    /// The stream ends after what was written.
    func close()
}

extension HTTPStream: EventSink {}
