import RunnerCore

/// Strings a step's process receives through `execve`: checked where their value is in the
/// file, since a longer one would validate and then fail at every launch.
extension DecodingContext {
    /// Reports `text` when the string exec sees (`prefix` and `text`, e.g. `NAME=value`) is
    /// longer than `ExecLimits.maxStringBytes`.
    mutating func checkExecString(_ text: String, prefix: String = "", _ what: @autoclosure () -> String,
                                  at location: SourceLocation) {
        let size = prefix.utf8.count + text.utf8.count
        guard size > ExecLimits.maxStringBytes else { return }
        let form = prefix.isEmpty ? "" : " as \(prefix)value"
        report(.execStringTooLong,
               "\(what()) is \(size) bytes\(form), longer than the \(ExecLimits.maxStringBytes) bytes exec takes in one string",
               at: location)
    }
}
