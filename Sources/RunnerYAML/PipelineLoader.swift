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

    /// The bytes of a pipeline file. Only a regular file is opened: a FIFO, device or socket is
    /// refused from `stat` (opening a FIFO blocks until a writer comes, opening a device may
    /// act on it), and the file's size is checked before a byte is read. The descriptor is
    /// opened non-blocking and checked again, for a path replaced between the two.
    public static func readFile(_ path: String, limits: YAMLLimits = .standard) -> Swift.Result<[UInt8], Diagnostic> {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT || errno == ENOTDIR {
                return .failure(Diagnostic(.unreadableFile, "no such file: \(path)", hint: "check the path", subject: path))
            }
            return .failure(Diagnostic(.unreadableFile, "cannot read \(path): \(String(cString: strerror(errno)))", subject: path))
        }
        if let refusal = refusal(of: status, path, limits) { return .failure(refusal) }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else {
            let why = errno == EACCES ? "permission denied" : String(cString: strerror(errno))
            return .failure(Diagnostic(.unreadableFile, "cannot read \(path): \(why)", hint: DiagnosticCode.unreadableFile.help,
                                       subject: path))
        }
        defer { close(fd) }
        guard fstat(fd, &status) == 0 else {
            return .failure(Diagnostic(.unreadableFile, "cannot read \(path): \(String(cString: strerror(errno)))", subject: path))
        }
        if let refusal = refusal(of: status, path, limits) { return .failure(refusal) }
        return readBounded(fd, path, size: Int(status.st_size), limits: limits)
    }

    /// Why a file of this `stat` is not read, or nil for a regular file within the size bound.
    static func refusal(of status: stat, _ path: String, _ limits: YAMLLimits) -> Diagnostic? {
        let kind: String
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            guard status.st_size > limits.maxFileBytes else { return nil }
            return tooLarge(path, "is \(status.st_size) bytes, larger than", limits)
        case S_IFDIR:
            return Diagnostic(.unreadableFile, "\(path) is a directory without .yaml files",
                              hint: "name a pipeline file, or a directory that holds some", subject: path)
        case S_IFIFO: kind = "a FIFO (named pipe)"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a file"
        }
        return Diagnostic(.notRegularFile, "\(path) is \(kind), not a regular file", hint: DiagnosticCode.notRegularFile.help,
                          subject: path)
    }

    static func tooLarge(_ path: String, _ what: String, _ limits: YAMLLimits) -> Diagnostic {
        Diagnostic(.fileTooLarge, "\(path) \(what) the limit of \(limits.maxFileBytes >> 20) MiB",
                   at: SourceLocation(file: path, line: 1, column: 1), hint: DiagnosticCode.fileTooLarge.help)
    }

    /// At most one byte more than the limit: a file that grew since `fstat` is still refused.
    private static func readBounded(_ fd: Int32, _ path: String, size: Int, limits: YAMLLimits) -> Swift.Result<[UInt8], Diagnostic> {
        let capacity = limits.maxFileBytes + 1
        var bytes = [UInt8](repeating: 0, count: min(capacity, max(size + 1, 4096)))
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
        if count > limits.maxFileBytes { return .failure(tooLarge(path, "is larger than", limits)) }
        bytes.removeSubrange(count...)
        return .success(bytes)
    }
}
