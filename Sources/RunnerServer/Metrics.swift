import FoundationEssentials
import RunnerCore

/// HTTP requests by route and status, counted as they are answered.
final class Metrics: @unchecked Sendable {
    private let lock = Lock()
    private var requests: [String: [Int: Int]] = [:]

    func count(route: String, status: Int) {
        lock.withLock { requests[route, default: [:]][status, default: 0] += 1 }
    }

    var snapshot: [String: [Int: Int]] { lock.withLock { requests } }
}

extension APIServer {
    static func number(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d) }

    /// Step duration buckets, seconds (Prometheus `le`).
    static let durationBuckets: [Double] = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600]

    /// Prometheus text format 0.0.4: runs by status, queue depth, runs executing here, step
    /// durations (finished steps still recorded), HTTP requests by route and status.
    func metricsText() -> HTTPResponse {
        func family(_ name: String, _ type: String, _ help: String) -> String {
            "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func label(_ text: String) -> String {
            text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
        }
        let statuses = (try? service.store.runCounts()) ?? [:]
        var out = family("runner_runs", "gauge", "Runs recorded, by status.")
        for status in RunStatus.allCases {
            out += "runner_runs{status=\"\(status.rawValue)\"} \(statuses[status] ?? 0)\n"
        }
        out += family("runner_queue_depth", "gauge", "Runs recorded and not started yet (queued).")
        out += "runner_queue_depth \(statuses[.queued] ?? 0)\n"
        out += family("runner_runs_executing", "gauge", "Runs this server is executing now.")
        out += "runner_runs_executing \(executing)\n"
        let durations = (try? service.store.stepDurations()) ?? []
        out += family("runner_step_duration_seconds", "histogram", "Durations of finished steps.")
        for bound in Self.durationBuckets {
            let count = durations.filter { $0 <= bound }.count
            out += "runner_step_duration_seconds_bucket{le=\"\(Self.number(bound))\"} \(count)\n"
        }
        out += "runner_step_duration_seconds_bucket{le=\"+Inf\"} \(durations.count)\n"
        out += "runner_step_duration_seconds_sum \(Self.number(durations.reduce(0, +)))\n"
        out += "runner_step_duration_seconds_count \(durations.count)\n"
        out += family("runner_http_requests_total", "counter", "HTTP requests answered, by route and status.")
        for (route, byStatus) in metrics.snapshot.sorted(by: { $0.key < $1.key }) {
            for (status, n) in byStatus.sorted(by: { $0.key < $1.key }) {
                out += "runner_http_requests_total{route=\"\(label(route))\",status=\"\(status)\"} \(n)\n"
            }
        }
        return HTTPResponse(status: 200, body: Array(out.utf8), contentType: "text/plain; version=0.0.4; charset=utf-8")
    }
}
