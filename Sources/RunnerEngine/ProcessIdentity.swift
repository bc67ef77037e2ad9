import FoundationEssentials
import Glibc
import RunnerCore

/// Who holds a run's lease: host, pid and the process's start time, so a pid reused after a
/// crash is not mistaken for the owner.
public enum ProcessIdentity {
    public static let current: String = {
        "\(hostName()):\(getpid()):\(startTime(of: getpid()) ?? 0)"
    }()

    /// Whether the owner named by an identity still runs (always true for another host:
    /// only its lease can tell).
    public static func isAlive(_ identity: String) -> Bool {
        let parts = identity.split(separator: ":")
        guard parts.count == 3, let pid = Int32(parts[1]), let started = UInt64(parts[2]) else { return true }
        guard String(parts[0]) == hostName() else { return true }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        return startTime(of: pid) == started
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Field 22 of /proc/PID/stat: start time in clock ticks since boot.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    /// Processes whose environment carries `RUNNER_ATTEMPT_ID=<marker>`: an attempt's
    /// processes, found again after the runner that started them died.
    public static func processes(withMarker marker: String) -> [Int32] {
        let needle = Array("RUNNER_ATTEMPT_ID=\(marker)\0".utf8)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
            let bytes = [UInt8](data) + [0]
            return bytes.withUnsafeBufferPointer { buffer in
                var start = 0
                for (index, byte) in buffer.enumerated() where byte == 0 {
                    if index - start + 1 == needle.count, Array(buffer[start...index]) == needle { return pid }
                    start = index + 1
                }
                return nil
            }
        }
    }

    /// Kills every process of an attempt and waits (up to `timeout`) until none is left.
    @discardableResult
    public static func killAttempt(marker: String, timeout: TimeInterval = 10) -> Int {
        var killed = Set<Int32>()
        let deadline = Monotonic.now() + timeout
        while true {
            let found = processes(withMarker: marker)
            if found.isEmpty || Monotonic.now() > deadline { return killed.count }
            for pid in found {
                kill(pid, SIGKILL)
                killed.insert(pid)
            }
            usleep(20_000)
        }
    }
}
