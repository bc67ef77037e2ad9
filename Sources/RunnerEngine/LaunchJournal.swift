import FoundationEssentials
import Glibc
import RunnerCore

/// A run's launch journal: one line per attempt, appended (one write(2), no fsync: it must
/// survive the runner's death, like SQLite's WAL at `synchronous=NORMAL`) before the attempt's
/// process is started. The attempt's full record is committed to the store right after the
/// launch, off the step's critical path; if the runner dies in between, `resume` finds the
/// attempt here, kills what is left of it and records it as interrupted, so no attempt that
/// ran is ever unrecorded. Line: `<serial> <attempt> <unix time> <escaped instance name>`.
struct LaunchJournal: Sendable {
    struct Entry: Equatable, Sendable {
        var name: StepName
        var serial: Int
        var attempt: Int
        var at: Date
    }

    static func path(_ state: StateDirectory, _ run: RunID) -> String {
        state.logs(of: run).appendingPathComponent("launches").path
    }

    private var fd: Int32 = -1
    let path: String

    init(path: String) { self.path = path }

    mutating func append(_ entries: [Entry]) throws {
        guard !entries.isEmpty else { return }
        // (Removed with its folder, it is closed by the executor, which finds the folder gone,
        // and reopened here: appended to, a removed file keeps nothing a resume could read.)
        if fd < 0 {
            fd = LogFile.open(path, flags: O_APPEND)
            guard fd >= 0 else { throw JournalError(path: path, errno: errno) }
        }
        var text = ""
        for entry in entries { text += Self.line(entry) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw JournalError(path: path, errno: errno)
            }
            bytes = bytes.dropFirst(n)
        }
    }

    mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// The name whole, escaped, never the (possibly cut) file name: the journal must name the
    /// instance. Runners before file names were cut wrote the same escaped form.
    static func line(_ entry: Entry) -> String {
        let millis = Int64(entry.at.timeIntervalSince1970 * 1000)
        return "\(entry.serial) \(entry.attempt) \(millis) \(InstanceFileName.escaped(entry.name))\n"
    }

    /// Every complete line of the journal (a line cut short by the crash is ignored).
    static func read(_ path: String) -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var entries: [Entry] = []
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        for line in lines where line.endIndex < data.endIndex {
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4,
                  let serial = Int(String(decoding: fields[0], as: UTF8.self)),
                  let attempt = Int(String(decoding: fields[1], as: UTF8.self)),
                  let millis = Int64(String(decoding: fields[2], as: UTF8.self)),
                  let name = unescape(fields[3]) else { continue }
            entries.append(Entry(name: StepName(name), serial: serial, attempt: attempt,
                                 at: Date(timeIntervalSince1970: Double(millis) / 1000)))
        }
        return entries
    }

    /// The inverse of `InstanceFileName.escaped`: `%XX` back to its byte.
    static func unescape<Bytes: Collection>(_ bytes: Bytes) -> String? where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        var i = bytes.startIndex
        while i != bytes.endIndex {
            let byte = bytes[i]
            if byte == UInt8(ascii: "%") {
                let h = bytes.index(after: i)
                guard h != bytes.endIndex, bytes.index(after: h) != bytes.endIndex,
                      let value = UInt8(String(decoding: [bytes[h], bytes[bytes.index(after: h)]], as: UTF8.self),
                                        radix: 16) else { return nil }
                out.append(value)
                i = bytes.index(h, offsetBy: 2)
            } else {
                out.append(byte)
                i = bytes.index(after: i)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    struct JournalError: Error, CustomStringConvertible {
        var path: String
        var errno: Int32
        var description: String { "launch journal \(path): \(String(cString: strerror(errno)))" }
    }
}
