#if canImport(Glibc)
import Glibc
#endif
import RunnerCore

/// Small things Foundation's full module did for the CLI, done here: the runner is built on
/// FoundationEssentials (Foundation's start-up was paid by every command).
enum URLText {
    /// `text` as one path segment or query value: everything but the unreserved characters of
    /// RFC 3986 (letters, digits, - . _ ~) percent-encoded, byte by byte of its UTF-8.
    static func escaped(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += percentEscape(byte)
            }
        }
        return out
    }
}

enum FileSystem {
    /// True when `path` names a directory (through symbolic links).
    static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }

    /// Writes all of `text` to the descriptor (stdout, stderr), through short writes and EINTR.
    static func write(_ fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                done += n
            }
        }
    }
}

extension String {
    /// The text padded with spaces on the right to `width` characters, or cut to it.
    func padded(to width: Int) -> String {
        count >= width ? String(prefix(width)) : self + String(repeating: " ", count: width - count)
    }
}

/// `value` with one decimal (what `String(format: "%.1f")` wrote), rounded half away from zero.
func oneDecimal(_ value: Double) -> String {
    let tenths = (abs(value) * 10).rounded(.toNearestOrAwayFromZero)
    let whole = Int(tenths / 10), tenth = Int(tenths.truncatingRemainder(dividingBy: 10))
    return (value < 0 && tenths > 0 ? "-" : "") + "\(whole).\(tenth)"
}
