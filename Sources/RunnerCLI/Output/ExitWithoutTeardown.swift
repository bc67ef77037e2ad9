import FoundationEssentials
import RunnerCore

/// Keeps loaded pipelines alive until the process exits. Freeing a 10,000-step model node by
/// node costs a quarter of `validate`'s time, and the OS reclaims it all at exit anyway
/// (clang's -disable-free makes the same trade). Only commands that exit when done use it.
enum ExitWithoutTeardown {
    private static let lock = Lock()
    nonisolated(unsafe) private static var kept: [Any] = []

    static func keep(_ value: Any) {
        lock.lock()
        kept.append(value)
        lock.unlock()
    }
}
