import CProcess
import FoundationEssentials
import Glibc
import RunnerCore

/// One thread that reads every running step's stdout and stderr, watches every step's exit
/// (poll on the pipes and on a pidfd per child), and runs the jobs of the run executors that
/// use it as their actor executor. A step's exit is therefore handled, and the next step
/// started, on the thread that saw the exit: no hand-off to another thread between the two
/// (each hand-off was a wake-up on another core, the largest cost per step on a VM).
final class EventLoop: ExecutionLoop, @unchecked Sendable {
    private let lock = Lock()
    private var streams: [Int32: Stream] = [:]
    /// pidfds of running children: readable once the child exited.
    private var exits: [Int32: ChildProcess] = [:]
    private var jobs: [UnownedJob] = []
    private var deliveries: [any LoopDelivery] = []
    /// The loop is (about to be) blocked in poll with nothing else to do: a job or a
    /// descriptor from another thread must write to the wake pipe.
    private var sleeping = false
    private var wake: [Int32] = [0, 0]
    private var started = false
    private var threadID: pthread_t?
    /// Timers, soonest first, on the monotonic clock: what they run runs on the loop's thread.
    private var timers: [(id: Int, at: Monotonic, action: @Sendable () -> Void)] = []
    private var lastTimerID = 0

    init() {
        _ = runner_pipe(&wake, 1)
    }

    private var isLoopThread: Bool {
        guard let threadID else { return false }
        return pthread_equal(threadID, pthread_self()) != 0
    }

    /// Whether a child is running (watched by a pidfd).
    var hasChildren: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !exits.isEmpty
    }

    func add(_ streams: [Stream], exit: (fd: Int32, process: ChildProcess)?) {
        lock.lock()
        for s in streams { self.streams[s.fd] = s }
        if let exit { exits[exit.fd] = exit.process }
        wakeAndUnlock()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        lock.lock()
        jobs.append(job)
        wakeAndUnlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Code isolated to an actor of this loop may run on its thread outside a job (an inbox's
    /// delivery, between two polls): nothing else of the loop runs then.
    func checkIsolated() {
        precondition(isLoopThread, "not on the run executor's event loop")
    }

    /// Runs `action` on the loop's thread once `seconds` have passed on the monotonic clock
    /// (poll's own timeout: neither a step of the wall clock nor a library that fakes it moves
    /// it). Returns an id for `cancelTimer`.
    func schedule(after seconds: Double, _ action: @escaping @Sendable () -> Void) -> Int {
        let at = Monotonic.now() + max(0, seconds)
        lock.lock()
        lastTimerID += 1
        let id = lastTimerID
        let index = timers.firstIndex { $0.at > at } ?? timers.endIndex
        timers.insert((id, at, action), at: index)
        wakeAndUnlock()
        return id
    }

    func cancelTimer(_ id: Int) {
        lock.lock()
        timers.removeAll { $0.id == id }
        lock.unlock()
    }

    /// Called with the lock held: the timers that are due, taken out.
    private func takeDueTimers() -> [@Sendable () -> Void] {
        let now = Monotonic.now()
        var due: [@Sendable () -> Void] = []
        while let first = timers.first, first.at <= now {
            due.append(first.action)
            timers.removeFirst()
        }
        return due
    }

    /// Called with the lock held: how long poll may wait for the next timer (milliseconds,
    /// -1 for ever, 0 when one is due).
    private var timerWait: Int32 {
        guard let next = timers.first else { return -1 }
        return Int32(max(0, min(Double(Int32.max), ((next.at - Monotonic.now()) * 1000).rounded(.up))))
    }

    /// `delivery.deliver()` will be called on the loop's thread, before it polls again.
    func deliverSoon(_ delivery: any LoopDelivery) {
        lock.lock()
        deliveries.append(delivery)
        wakeAndUnlock()
    }

    /// Called with the lock held, after something was added: starts the thread if needed and
    /// wakes it from poll when it sleeps there (not needed on the loop's own thread). A thread
    /// that cannot be made here is tried again at the next addition; `start` says why.
    private func wakeAndUnlock() {
        try? startIfNeeded()
        let mustWake = sleeping && !isLoopThread
        if mustWake { sleeping = false }
        lock.unlock()
        if mustWake { poke() }
    }

    func start() throws {
        lock.lock()
        defer { lock.unlock() }
        try startIfNeeded()
    }

    /// Called with the lock held.
    private func startIfNeeded() throws {
        guard !started else { return }
        try Threads.start(stackSize: 1 << 20) { [unowned self] in self.loop() }
        started = true
    }

    private func poke() {
        var byte: UInt8 = 1
        _ = write(wake[1], &byte, 1)
    }

    private func loop() {
        lock.lock()
        threadID = pthread_self()
        lock.unlock()
        runner_name_thread("runner-loop")
        // Children are started from this thread, so their exit signal is sent to it: with
        // SIGCHLD unblocked here (and its default disposition, ignore) the kernel drops it at
        // once; blocked, it was queued and woke another thread of the runner at every exit.
        var childSignal = sigset_t()
        sigemptyset(&childSignal)
        sigaddset(&childSignal, SIGCHLD)
        pthread_sigmask(SIG_UNBLOCK, &childSignal, nil)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var fds: [pollfd] = []
        while true {
            runQueued()
            let timeout = prepare(&fds)
            let count = poll(&fds, nfds_t(fds.count), timeout)
            lock.lock()
            sleeping = false
            lock.unlock()
            if count < 0 { if errno == EINTR { continue } else { return } }
            if count == 0 { continue }
            if fds[0].revents != 0 {
                while read(wake[0], &buffer, buffer.count) > 0 {}
            }
            for p in fds.dropFirst() where p.revents != 0 { serve(p.fd, &buffer) }
        }
    }

    /// The timers that are due, the deliveries and the jobs, in that order.
    private func runQueued() {
        lock.lock()
        let delivering = deliveries
        deliveries.removeAll(keepingCapacity: true)
        let ready = jobs
        jobs.removeAll(keepingCapacity: true)
        let due = takeDueTimers()
        lock.unlock()
        for action in due { action() }
        for delivery in delivering { delivery.deliver() }
        for job in ready { job.runSynchronously(on: asUnownedSerialExecutor()) }
    }

    /// The descriptors to poll (the wake pipe first) and how long poll may wait: until a
    /// descriptor or the wake pipe is ready or the next timer is due, or not at all when
    /// something was queued meanwhile.
    private func prepare(_ fds: inout [pollfd]) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        let idle = jobs.isEmpty && deliveries.isEmpty
        sleeping = idle
        fds.removeAll(keepingCapacity: true)
        fds.append(pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0))
        for fd in streams.keys { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        for fd in exits.keys { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        return idle ? timerWait : 0
    }

    /// A ready descriptor: a child's pidfd (it exited) or one of its output pipes.
    private func serve(_ fd: Int32, _ buffer: inout [UInt8]) {
        lock.lock()
        let stream = streams[fd]
        let exited = exits.removeValue(forKey: fd)
        lock.unlock()
        if let exited {
            close(fd)  // already forgotten (above), so a reuse of the number is safe
            exited.waitForExit()
            return
        }
        guard let stream else { return }
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 {
            buffer.withUnsafeBytes { stream.consume(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
            // Forget the descriptor before closing it: once closed, a launch on another
            // thread may get the same number for a new pipe and register it.
            lock.lock()
            streams[fd] = nil
            lock.unlock()
            close(fd)
            stream.finish()
            stream.log.streamClosed()
            stream.process.streamClosed()
        }
    }
}
