#if canImport(Glibc)
import Glibc
#endif

/// Reading the attempts' log files (paths the executor recorded under the state directory).
enum LogFiles {
    /// The bytes of `path` from `offset` to its end, at most `limit` of them; nil when the
    /// file cannot be opened.
    static func read(_ path: String, from offset: UInt64 = 0, limit: Int = .max) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var position = off_t(offset)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count < limit {
            let want = min(buffer.count, limit - bytes.count)
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, position) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            bytes.append(contentsOf: buffer[0..<got])
            position += off_t(got)
        }
        return bytes
    }

    /// The size of `path` in bytes, nil when it cannot be read.
    static func size(_ path: String) -> UInt64? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return UInt64(status.st_size)
    }
}
