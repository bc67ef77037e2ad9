#if canImport(Glibc)
import Glibc
#endif
import RunnerCore

/// Strings a step's process receives through `execve`: checked where their value is in the
/// file, since exec would refuse a longer one at every launch, and cut one holding a NUL (a
/// `"\0"` escape) short, so the step would see less than the file says.
extension DecodingContext {
    /// Reports `text` when the string exec sees (`prefix` and `text`, e.g. `NAME=value`) is
    /// longer than `ExecLimits.maxStringBytes` or holds a NUL.
    mutating func checkExecString(_ text: String, prefix: String = "", _ what: @autoclosure () -> String,
                                  at location: SourceLocation) {
        let size = prefix.utf8.count + text.utf8.count
        if size > ExecLimits.maxStringBytes {
            let form = prefix.isEmpty ? "" : " as \(prefix)value"
            report(.execStringTooLong,
                   "\(what()) is \(size) bytes\(form), longer than the \(ExecLimits.maxStringBytes) bytes exec takes in one string",
                   at: location)
        } else if Self.containsNUL(text) {
            report(.execStringHasNUL, "\(what()) holds a NUL character, where exec would cut it short", at: location)
        }
    }

    /// memchr over the string's own bytes: every `run` of a 10,000-step file is scanned.
    static func containsNUL(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false
        } ?? text.utf8.contains(0)
    }
}
