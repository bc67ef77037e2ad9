import Foundation
import RunnerCore
import RunnerStore
import Testing
@testable import RunnerEngine

/// A `for_each` item of any length gets an attempt file name that fits in one path component
/// (NAME_MAX: 255 bytes), and the launch journal still names the instance whole.
@Suite struct InstanceFileNameTests {
    static let nameMax = 255
    /// The longest suffix an attempt's file adds: `.` + the largest serial + `.progress`.
    static let longestSuffix = ".\(Int.max).progress".utf8.count

    /// Items of 200, 255, 1,000 and 100,000 bytes, ASCII and multibyte, and escapes.
    static let items: [String] = [
        String(repeating: "a", count: 200), String(repeating: "b", count: 255), String(repeating: "c", count: 1_000),
        String(repeating: "d", count: 100_000), String(repeating: "é", count: 100), String(repeating: "日", count: 85),
        String(repeating: "🙂", count: 25_000), String(repeating: "a/", count: 100), String(repeating: "%", count: 90),
        String(repeating: "x", count: 177) + "é🙂",
    ]

    /// By index: a failure then names the case, not 100,000 characters.
    @Test(arguments: items.indices)
    func aLongItemsFileNameFits(_ index: Int) {
        let name = StepName("promote[\(Self.items[index])]")
        let file = StateDirectory.fileName(for: name)
        #expect(file.utf8.count + Self.longestSuffix <= Self.nameMax, "\(file.utf8.count) bytes")
        #expect(!file.contains("/") && !file.unicodeScalars.contains { $0.value < 0x20 })
        #expect(StateDirectory.fileName(for: name) == file, "the same name, the same file (a resumed run recomputes it)")
        #expect(file.hasPrefix("promote["), "it begins like the instance's name, for whoever lists the folder")
    }

    @Test func shortNamesAreKeptAsTheyAre() {
        let name = String(repeating: "s", count: InstanceFileName.verbatimLimit)
        #expect(StateDirectory.fileName(for: StepName(name)) == name)
        #expect(StateDirectory.fileName(for: StepName("promote[a/b]")) == "promote[a%2Fb]")
    }

    /// A cut name is never another instance's file: long names that share their first bytes,
    /// and a short name written to look like a cut one, all get files of their own.
    @Test func cutNamesNeverCollide() {
        let common = String(repeating: "p", count: 300)
        let long = (0..<50).map { StepName("s[\(common)\($0)]") }
        let files = long.map(StateDirectory.fileName(for:))
        #expect(Set(files).count == long.count)
        let lookalike = StepName(String(files[0].dropLast(1)))
        #expect(!files.contains(StateDirectory.fileName(for: lookalike)))
        #expect(files.allSatisfy { $0.utf8.count > InstanceFileName.verbatimLimit + 30 })
    }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func theDigestIsTheNamesSHA256(_ input: String, _ digest: String) {
        #expect(InstanceFileName.digest(Array(input.utf8)) == String(digest.prefix(32)))
    }

    /// The journal keeps the whole escaped name, so resume finds the instance whatever its file.
    @Test func theJournalNamesLongInstancesWhole() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("launches").path
        let names = Self.items.map { StepName("promote[\($0)]") }
        var journal = LaunchJournal(path: path)
        try journal.append(names.enumerated().map { LaunchJournal.Entry(name: $1, serial: $0 + 1, attempt: 1, at: Date()) })
        journal.close()
        #expect(LaunchJournal.read(path).map(\.name) == names)
    }

    /// A journal written by a runner before names were cut: the same line format.
    @Test func aJournalOfAnOlderRunnerIsRead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("launches").path
        try "3 1 1795000000123 promote[a%2Fb]\n4 2 1795000000456 \(String(repeating: "z", count: 300))\n"
            .write(toFile: path, atomically: false, encoding: .utf8)
        let read = LaunchJournal.read(path)
        #expect(read.map(\.name) == [StepName("promote[a/b]"), StepName(String(repeating: "z", count: 300))])
        #expect(read.map(\.serial) == [3, 4])
    }

    /// End to end through the executor: every instance's log and outputs are kept. (The items
    /// are listed in the file: as one list param they would be more than its variable holds.)
    @Test func longItemsKeepTheirLogsAndOutputs() async throws {
        let items = Self.items.filter { !$0.contains("/") }
        let list = "[" + items.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        let f = try ExecutorFixture("""
        version: 1
        name: long
        steps:
          - name: each
            for_each: \(list)
            run: |
              printf 'item of %s bytes\\n' "$(printf %s "$ITEM" | wc -c)"
              echo "size=$(printf %s "$ITEM" | wc -c)" >> "$RUNNER_OUTPUT"
              echo "50 half" >> "$RUNNER_PROGRESS"
            outputs: [size]
        """)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let result = try await f.run()
        #expect(result.run.status == .succeeded)
        for item in items {
            let name = "each[\(item)]"
            let bytes = item.utf8.count
            #expect(result.step(name)?.outputs == ["size": String(bytes)], "\(bytes) bytes")
            let log = try #require(result.attempts.first { $0.step.rawValue == name }?.logPath)
            #expect((try? String(contentsOfFile: log, encoding: .utf8)) == "item of \(bytes) bytes\n")
            #expect(result.step(name)?.progressMessage == "half", "the progress file was read")
        }
    }
}
