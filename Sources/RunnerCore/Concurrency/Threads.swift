#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Threads of the runner's own (an event loop, the store's writer, libyaml's parser), started
/// with pthreads: FoundationEssentials has no Thread. Each is detached: whoever needs to know
/// when it ends is told by the thread's body.
public enum Threads {
    private final class Start {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts `body` on a new thread; `stackSize` in bytes (the system's default when nil).
    /// Answers the thread's id, or throws when the system cannot make a thread (its limit on
    /// processes or threads reached): the caller decides what its work does without it (the
    /// CLI says so and exits 70, the internal-error status; a run left unfinished is resumed
    /// later like any other).
    @discardableResult
    public static func start(stackSize: Int? = nil,
                             _ body: @escaping @Sendable () -> Void) throws(ThreadStartError) -> pthread_t {
        try make(stackSize: stackSize, body).get()
    }

    /// Starts `body` on a new thread, or answers nil when the system cannot make one: for work
    /// that can be done on the calling thread instead (reading a large pipeline).
    public static func tryStart(stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) -> pthread_t? {
        try? make(stackSize: stackSize, body).get()
    }

    private static func make(stackSize: Int?,
                             _ body: @escaping @Sendable () -> Void) -> Result<pthread_t, ThreadStartError> {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        if let stackSize { pthread_attr_setstacksize(&attributes, max(stackSize, Int(PTHREAD_STACK_MIN))) }
        let context = Unmanaged.passRetained(Start(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { context in
            let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
            start.body()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<Start>.fromOpaque(context).release()
            return .failure(ThreadStartError(status: status))
        }
        return .success(thread)
    }

    /// True on the thread `thread`.
    public static func isCurrent(_ thread: pthread_t) -> Bool { pthread_equal(pthread_self(), thread) != 0 }

    /// Sleeps the calling thread.
    public static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        let whole = seconds.rounded(.down)
        var time = timespec(tv_sec: Int(whole), tv_nsec: Int((seconds - whole) * 1e9))
        var left = timespec()
        while nanosleep(&time, &left) == -1 && errno == EINTR { time = left }
    }
}

/// The system could not make a thread: pthread_create's error number.
public struct ThreadStartError: Error, CustomStringConvertible, Sendable {
    public var status: Int32

    public init(status: Int32) { self.status = status }

    public var description: String {
        "cannot start a thread: \(String(cString: strerror(status))) "
            + "(the limit on processes or threads, 'ulimit -u', may be reached)"
    }
}
