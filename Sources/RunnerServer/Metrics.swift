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
        var out = ""
        func label(_ text: String) -> String {
            text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
        }
        let statuses = (try? service.store.runCounts()) ?? [:]
        out += "# HELP runner_runs Runs recorded, by status.\n# TYPE runner_runs gauge\n"
        for status in RunStatus.allCases {
            out += "runner_runs{status=\"\(status.rawValue)\"} \(statuses[status] ?? 0)\n"
        }
        out += "# HELP runner_queue_depth Runs recorded and not started yet (queued).\n# TYPE runner_queue_depth gauge\n"
        out += "runner_queue_depth \(statuses[.queued] ?? 0)\n"
        out += "# HELP runner_runs_executing Runs this server is executing now.\n# TYPE runner_runs_executing gauge\n"
        out += "runner_runs_executing \(executing)\n"
        let durations = (try? service.store.stepDurations()) ?? []
        out += "# HELP runner_step_duration_seconds Durations of finished steps.\n# TYPE runner_step_duration_seconds histogram\n"
        for bound in Self.durationBuckets {
            out += "runner_step_duration_seconds_bucket{le=\"\(Self.number(bound))\"} \(durations.filter { $0 <= bound }.count)\n"
        }
        out += "runner_step_duration_seconds_bucket{le=\"+Inf\"} \(durations.count)\n"
        out += "runner_step_duration_seconds_sum \(Self.number(durations.reduce(0, +)))\n"
        out += "runner_step_duration_seconds_count \(durations.count)\n"
        out += "# HELP runner_http_requests_total HTTP requests answered, by route and status.\n# TYPE runner_http_requests_total counter\n"
        for (route, byStatus) in metrics.snapshot.sorted(by: { $0.key < $1.key }) {
            for (status, n) in byStatus.sorted(by: { $0.key < $1.key }) {
                out += "runner_http_requests_total{route=\"\(label(route))\",status=\"\(status)\"} \(n)\n"
            }
        }
        return HTTPResponse(status: 200, body: Array(out.utf8), contentType: "text/plain; version=0.0.4; charset=utf-8")
    }
}
