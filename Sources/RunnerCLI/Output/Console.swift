#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore

/// Where the CLI writes, and whether it may colour. Tests pass a capturing console.
public final class Console: @unchecked Sendable {
    public enum Stream { case output, error }

    private let lock = Lock()
    private let write: (Stream, String) -> Void
    public let colorsOutput: Bool
    public let colorsError: Bool

    public init(colorsOutput: Bool, colorsError: Bool, write: @escaping (Stream, String) -> Void) {
        self.colorsOutput = colorsOutput
        self.colorsError = colorsError
        self.write = write
    }

    /// The process's stdout and stderr; colour on a TTY unless `NO_COLOR` is set.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> Console {
        let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let term = environment["TERM"] ?? ""
        return Console(colorsOutput: !noColor && term != "dumb" && isatty(1) == 1,
                       colorsError: !noColor && term != "dumb" && isatty(2) == 1) { stream, text in
            FileSystem.write(stream == .output ? 1 : 2, text)
        }
    }

    public func out(_ text: String) { emit(.output, text) }
    public func err(_ text: String) { emit(.error, text) }

    private func emit(_ stream: Stream, _ text: String) {
        lock.lock()
        defer { lock.unlock() }
        write(stream, text)
    }
}
