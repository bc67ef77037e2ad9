/// `%XX` for one byte (two upper-case hex digits): URL path segments, file names of steps.
public func percentEscape(_ byte: UInt8) -> String {
    "%" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
}
