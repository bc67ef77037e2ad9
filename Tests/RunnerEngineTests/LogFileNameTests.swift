import Testing
import RunnerCore
import RunnerEngine

/// A step instance's log file name: its name, with what a path cannot hold escaped as %XX.
@Suite struct LogFileNameTests {
    @Test(arguments: [
        ("build", "build"),
        ("promote[a/b]", "promote[a%2Fb]"),
        ("50%", "50%25"),
        ("tab\there", "tab%09here"),
        ("del\u{7F}", "del%7F"),
        ("名前/x", "名前%2Fx"),
    ])
    func escapes(name: String, file: String) {
        #expect(StateDirectory.fileName(for: StepName(name)) == file)
    }
}
