import RunnerCore

/// ANSI styles, applied only when the stream is a colour terminal.
struct Style {
    let enabled: Bool

    func bold(_ s: String) -> String { wrap(s, "1") }
    func red(_ s: String) -> String { wrap(s, "1;31") }
    func yellow(_ s: String) -> String { wrap(s, "1;33") }
    func cyan(_ s: String) -> String { wrap(s, "36") }
    func green(_ s: String) -> String { wrap(s, "32") }
    func dim(_ s: String) -> String { wrap(s, "2") }

    private func wrap(_ s: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s
    }

    /// A step's status as the progress lines and `runs show` mark it.
    func symbol(_ status: StepStatus) -> String {
        switch status {
        case .queued: dim("…")
        case .running: cyan("▶")
        case .succeeded: green("✓")
        case .failed: red("✗")
        case .skipped: dim("⊘")
        case .cancelled: yellow("■")
        }
    }
}
