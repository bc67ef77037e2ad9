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
    /// Answers the thread's id. When the system cannot make a thread (its limit on processes
    /// or threads reached), says so and exits with 70, the internal-error status: the
    /// threads started this way (an event loop, the store's writer) are ones the runner
    /// cannot go on without, and a run left unfinished is resumed later like any other.
    @discardableResult
    public static func start(stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) -> pthread_t {
        switch make(stackSize: stackSize, body) {
        case .success(let thread): return thread
        case .failure(let error):
            let message = "runner: cannot start a thread: \(String(cString: strerror(error.status))) "
                + "(the limit on processes or threads, 'ulimit -u', may be reached)\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            exit(70)
        }
    }

    /// Starts `body` on a new thread, or answers nil when the system cannot make one: for work
    /// that can be done on the calling thread instead (reading a large pipeline).
    public static func tryStart(stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) -> pthread_t? {
        try? make(stackSize: stackSize, body).get()
    }

    /// pthread_create's error number.
    struct CreateError: Error {
        var status: Int32
    }

    private static func make(stackSize: Int?, _ body: @escaping @Sendable () -> Void) -> Result<pthread_t, CreateError> {
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
            return .failure(CreateError(status: status))
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
