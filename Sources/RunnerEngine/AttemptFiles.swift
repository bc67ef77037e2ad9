/// The files of one attempt, which share a stem: its log, and the `RUNNER_OUTPUT` and
/// `RUNNER_PROGRESS` files the step writes (absent while it writes none).
struct AttemptFiles: Sendable {
    let stem: String

    var log: String { stem + ".log" }
    var output: String { stem + ".output" }
    var progress: String { stem + ".progress" }
}
