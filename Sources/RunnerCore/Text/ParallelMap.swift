import Foundation

/// Splits work over the machine's cores when there is enough of it: a 10,000-step pipeline
/// is decoded and checked step by step, and each step is independent of the others.
public enum ParallelMap {
    /// `body` over contiguous chunks of `0..<count`, results in chunk order. Runs inline when
    /// the work is small or there is one core.
    public static func chunks<T: Sendable>(of count: Int, minimumChunk: Int = 256,
                                           _ body: @Sendable (Range<Int>) -> T) -> [T] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let chunkCount = max(1, min(cores, count / max(1, minimumChunk)))
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

    /// Each chunk writes only its own slot.
    private struct SendableSlots<T>: @unchecked Sendable {
        let base: UnsafeMutableBufferPointer<T?>
    }
}
