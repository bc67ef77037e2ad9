import RunnerCore
import RunnerCrypto

/// The file name an attempt's files are made from (`<name>.<serial>.log`, `.output`,
/// `.progress`), derived from the step instance's name so that it always fits in one path
/// component (NAME_MAX, 255 bytes): a `for_each` item can be any length.
///
/// A name is first escaped (what a path component cannot hold, as `%XX`). An escaped name of
/// at most `verbatimLimit` bytes is the file name; a longer one is cut, at a character
/// boundary, to 181–184 bytes and followed by `~` and 32 hex digits of its SHA-256. The two
/// forms never have the same length (≤ 180 bytes, 214–217 bytes), so a cut name is never
/// another instance's whole one, and two cut names differ unless their SHA-256 collide.
/// With `.` + the serial + `.progress` it stays under 255 bytes for any serial an Int holds.
enum InstanceFileName {
    static let verbatimLimit = 180
    static let cutLimit = verbatimLimit + 4

    static func make(_ name: StepName) -> String {
        let escaped = escaped(name)
        guard escaped.utf8.count > verbatimLimit else { return escaped }
        var prefix = String.UnicodeScalarView()
        var bytes = 0
        for scalar in escaped.unicodeScalars {
            let size = UTF8.width(scalar)
            if bytes + size > cutLimit { break }
            prefix.append(scalar)
            bytes += size
        }
        return String(prefix) + "~" + digest(Array(name.rawValue.utf8))
    }

    /// `promote[a/b]` → `promote[a%2Fb]`: `/`, `%`, control characters and DEL as `%XX`, and a
    /// name that is `.` or `..` with its first dot escaped. Whole, this is also how the launch
    /// journal writes a name (`LaunchJournal.unescape` reverses it).
    static func escaped(_ name: StepName) -> String {
        let raw = name.rawValue
        if raw != "." && raw != ".." && !raw.utf8.contains(where: needsEscape) {
            return raw
        }
        var out = ""
        for scalar in raw.unicodeScalars {
            if scalar.isASCII && needsEscape(UInt8(scalar.value)) {
                out += percentEscape(UInt8(scalar.value))
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out == "." || out == ".." ? "%2E" + out.dropFirst() : out
    }

    /// 32 hex digits of the name's SHA-256 (libcrypto); where libcrypto cannot be loaded, of
    /// two FNV-1a hashes (names still differ, but one could be made to collide on purpose).
    static func digest(_ bytes: [UInt8]) -> String {
        if let sha = Crypto.sha256HexIfAvailable(bytes) { return String(sha.prefix(32)) }
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x6c62_272e_07bb_0142
        for byte in bytes {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 &+ 0x9e37_79b9
        }
        func hex(_ v: UInt64) -> String { let t = String(v, radix: 16); return String(repeating: "0", count: 16 - t.count) + t }
        return hex(a) + hex(b)
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "/") || byte == UInt8(ascii: "%") || byte < 0x20 || byte == 0x7F
    }
}
