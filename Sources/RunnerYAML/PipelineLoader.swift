#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore

/// Reads, decodes and validates a pipeline file: the one entry point front doors use.
public enum PipelineLoader {
    public struct Result: Sendable {
        /// Set when the pipeline is valid (warnings allowed).
        public var pipeline: ValidatedPipeline?
        /// Every diagnostic, errors and warnings, sorted by location.
        public var diagnostics: [Diagnostic]
        /// The located node tree the pipeline was decoded from.
        public var syntaxTree: YAMLNode?
        /// Where the time went: reading the YAML, decoding, validating.
        public var timings = Timings()
        public var isValid: Bool { pipeline != nil }
    }

    public struct Timings: Sendable {
        public var read: Duration = .zero
        public var decode: Duration = .zero
        public var validate: Duration = .zero
    }

    public static func load(path: String, limits: YAMLLimits = .standard) -> Result {
        switch readFile(path, limits: limits) {
        case .success(let bytes): return load(bytes: bytes, file: path, limits: limits).confiningWorkdirs(file: path)
        case .failure(let d): return Result(pipeline: nil, diagnostics: [d], syntaxTree: nil)
        }
    }

    public static func load(bytes: [UInt8], file: String, limits: YAMLLimits = .standard) -> Result {
        let clock = ContinuousClock()
        var timings = Timings()
        var start = clock.now
        func lap() -> Duration {
            let now = clock.now
            defer { start = now }
            return now - start
        }
        let read = YAMLReader.read(bytes, file: file, limits: limits)
        timings.read = lap()
        guard let root = read.root else { return Result(pipeline: nil, diagnostics: read.diagnostics, syntaxTree: nil, timings: timings) }
        let decoded = PipelineDecoder.decode(root, file: file)
        timings.decode = lap()
        var diagnostics = read.diagnostics + decoded.diagnostics
        guard let pipeline = decoded.pipeline else {
            return Result(pipeline: nil, diagnostics: unique(diagnostics), syntaxTree: root, timings: timings)
        }
        let validation = PipelineValidator.validate(pipeline)
        diagnostics = unique(diagnostics + validation.diagnostics)
        timings.validate = lap()
        guard !diagnostics.hasErrors, let validated = validation.pipeline else {
            return Result(pipeline: nil, diagnostics: diagnostics, syntaxTree: root, timings: timings)
        }
        return Result(pipeline: validated, diagnostics: diagnostics, syntaxTree: root, timings: timings)
    }

    static func unique(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        var seen = Set<Diagnostic>()
        return diagnostics.filter { seen.insert($0).inserted }.sortedByLocation()
    }

    public static func readFile(_ path: String, limits: YAMLLimits = .standard) -> Swift.Result<[UInt8], Diagnostic> {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT || errno == ENOTDIR {
                return .failure(Diagnostic(.unreadableFile, "no such file: \(path)", hint: "check the path", subject: path))
            }
            return .failure(Diagnostic(.unreadableFile, "cannot read \(path): \(String(cString: strerror(errno)))", subject: path))
        }
        if status.st_mode & S_IFMT == S_IFDIR {
            return .failure(Diagnostic(.unreadableFile, "\(path) is a directory without .yaml files",
                                       hint: "name a pipeline file, or a directory that holds some", subject: path))
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let why = errno == EACCES ? "permission denied" : String(cString: strerror(errno))
            return .failure(Diagnostic(.unreadableFile, "cannot read \(path): \(why)", hint: DiagnosticCode.unreadableFile.help,
                                       subject: path))
        }
        defer { close(fd) }
        // At most one byte more than the limit: enough to tell that the file is too large.
        let capacity = limits.maxFileBytes + 1
        var bytes = [UInt8](repeating: 0, count: min(capacity, max(Int(status.st_size) + 1, 4096)))
        var count = 0
        while count < capacity {
            if count == bytes.count { bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, capacity - count))) }
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if got == 0 { break }
            if got < 0 {
                if errno == EINTR { continue }
                return .failure(Diagnostic(.unreadableFile, "cannot read \(path): \(String(cString: strerror(errno)))", subject: path))
            }
            count += got
        }
        if count > limits.maxFileBytes {
            return .failure(Diagnostic(.fileTooLarge, "\(path) is larger than \(limits.maxFileBytes >> 20) MiB",
                                       at: SourceLocation(file: path, line: 1, column: 1), hint: DiagnosticCode.fileTooLarge.help))
        }
        bytes.removeSubrange(count...)
        return .success(bytes)
    }
}
