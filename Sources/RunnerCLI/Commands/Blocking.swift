#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import FoundationEssentials
import RunnerCore

/// Runs async engine work from the synchronous command line and waits for it. The waiting
/// thread is the process's main thread, never one of the cooperative threads the engine uses.
func blockingAwait<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.value = await body()
        done.signal()
    }
    done.wait()
    return box.value!
}

final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// Ctrl-C while a run executes: the first asks the run to cancel (running steps are
/// terminated, finally steps run), the second stops the finally steps too, the third exits
/// at once (the run stays recorded and `runner runs resume` finishes it).
final class InterruptHandler: @unchecked Sendable {
    private var source: DispatchSourceSignal?
    private var count = 0
    private let lock = Lock()

    init(onCancel: @escaping @Sendable (Int) -> Void) {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [weak self] in
            guard let self else { return }
            self.lock.lock()
            self.count += 1
            let n = self.count
            self.lock.unlock()
            if n >= 3 { exit(130) }
            onCancel(n)
        }
        source.resume()
        self.source = source
    }

    deinit {
        source?.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
