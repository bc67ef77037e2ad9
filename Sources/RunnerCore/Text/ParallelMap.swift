import Dispatch
import FoundationEssentials

/// Splits work over the machine's cores when there is enough of it: a 10,000-step pipeline
/// is decoded and checked step by step, and each step is independent of the others.
public enum ParallelMap {
    /// `body` over contiguous chunks of `0..<count`, results in chunk order. Runs inline when
    /// the work is small or there is one core.
    public static func chunks<T: Sendable>(of count: Int, minimumChunk: Int = 256,
                                           _ body: @Sendable (Range<Int>) -> T) -> [T] {
        // Small work runs inline before the cores are counted: Foundation counts them by reading
        // the cgroup files each time it is asked, which costs more than small work.
        let most = count / max(1, minimumChunk)
        guard most > 1 else { return [body(0..<count)] }
        let chunkCount = max(1, min(cores, most))
        guard chunkCount > 1 else { return [body(0..<count)] }
        let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: chunkCount)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        let slots = SendableSlots(base: results)
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            let lower = count * chunk / chunkCount, upper = count * (chunk + 1) / chunkCount
            slots.base[chunk] = body(lower..<upper)
        }
        return results.map { $0! }
    }

    /// The cores this process may use (cgroup quota included), counted once.
    public static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// Each chunk writes only its own slot.
    private struct SendableSlots<T>: @unchecked Sendable {
        let base: UnsafeMutableBufferPointer<T?>
    }
}
