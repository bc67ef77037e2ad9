import FoundationEssentials
import Glibc
import RunnerCore

/// An attempt's log, created on the first byte the step writes: a step that prints nothing
/// leaves no file (creating one per step was the largest cost of a run of quiet steps).
/// Used only on the pump thread.
final class LogFile: @unchecked Sendable {
    let path: String
    private var fd: Int32 = -1
    private var failed = false
    var openStreams = 2
    /// When the file was last checked to be still in its folder.
    private var checkedAt = Monotonic.now()

    init(path: String) { self.path = path }

    func write(_ raw: UnsafeRawBufferPointer) {
        if fd < 0 && !failed {
            fd = Self.open(path, flags: O_TRUNC)
            failed = fd < 0
        } else if fd >= 0 && checkedAt.elapsed > 0.5 {
            checkedAt = Monotonic.now()
            reopenIfRemoved()
        }
        guard fd >= 0 else { return }
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n <= 0 { if errno == EINTR { continue } else { break } }
            offset += n
        }
    }

    func streamClosed() {
        openStreams -= 1
        if openStreams == 0 && fd >= 0 {
            close(fd)
            fd = -1
        }
    }

    /// The log was removed while the step wrote it (its folder deleted): what follows goes to
    /// a new file at the same path, in a folder made again, after a line that says so.
    private func reopenIfRemoved() {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_nlink == 0 else { return }
        let reopened = Self.open(path, flags: O_APPEND)
        guard reopened >= 0 else { return }
        close(fd)
        fd = reopened
        let note = "[runner: this log was removed while the step ran; what the step wrote before this line is lost]\n"
        _ = note.withCString { Glibc.write(fd, $0, strlen($0)) }
    }

    /// Opens (creating) the log, and its folder if it is missing.
    static func open(_ path: String, flags: Int32) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0o600)
        guard fd < 0, errno == ENOENT, let slash = path.lastIndex(of: "/") else { return fd }
        try? StateDirectory.makeDirectory(String(path[..<slash]))
        return Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0o600)
    }
}
