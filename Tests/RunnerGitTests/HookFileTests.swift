import Foundation
import RunnerTestSupport
import Testing
@testable import RunnerGit

/// The installed hook script: what it runs, with what quoting, and the registrations it carries.
@Suite struct HookFileTests {
    let entries = [
        HookEntry(pipeline: "/srv/it's here/docs-publish.yaml", refs: ["refs/heads/main", "refs/tags/v*"],
                  param: "targetRef", state: "/srv/state $(touch x)"),
        HookEntry(pipeline: "/srv/p.yaml", refs: nil, param: nil, state: "/srv/.runner"),
    ]

    @Test func registrationsRoundTripThroughTheScript() {
        let text = HookFile.script(event: "post-receive", runner: "/opt/run'ner/bin/runner", entries: entries)
        #expect(HookFile.entries(inHook: text) == entries)
        #expect(HookFile.entries(inHook: "#!/bin/sh\necho someone else's hook\n") == nil,
                "a hook runner did not write is not read as one")
    }

    @Test func everyEventRoundTripsAndServerRegistrationsKeepTheirFields() {
        let remote = HookEntry(pipeline: "docs", refs: ["refs/heads/main"], param: "targetRef", state: "/s",
                               server: "http://127.0.0.1:8080", tokenFile: "/t/token", name: "docs")
        for event in HookFile.events {
            let text = HookFile.script(event: event, runner: "/bin/runner", entries: entries + [remote])
            #expect(HookFile.entries(inHook: text) == entries + [remote], "\(event)")
            #expect(text.contains("hook run \(event) --hook \"$0\""), "\(event)")
            #expect(text.contains("< \"$input\"") == RefUpdate.isGivenOnInput(event: event),
                    "\(event): stdin kept for both")
        }
    }

    @Test func aMalformedRegistrationLineIsSkippedNotFatal() {
        let text = HookFile.script(event: "post-commit", runner: "/bin/runner", entries: entries)
            .replacingOccurrences(of: HookFile.entryPrefix + "{\"param\"", with: HookFile.entryPrefix + "{broken")
        #expect(HookFile.entries(inHook: text) == [entries[1]])
        #expect(HookFile.entries(inHook: HookFile.marker + "\n") == [], "runner's hook with no registration left")
    }

    @Test func installingAPipelineAgainReplacesItsRegistrationAndPutsItLast() {
        let updated = HookEntry(pipeline: entries[0].pipeline, refs: ["refs/heads/release"], param: nil,
                                state: "/other")
        let merged = HookFile.merging([updated], into: entries)
        #expect(merged == [entries[1], updated])
        #expect(HookFile.merging([], into: entries) == entries)
        #expect(HookFile.merging(entries, into: []) == entries)
    }

    @Test func shellQuotingKeepsEverythingLiteral() {
        #expect(HookFile.shellQuoted("plain") == "'plain'")
        #expect(HookFile.shellQuoted("it's $(x) `y`") == "'it'\\''s $(x) `y`'")
    }

    /// Writes an executable from another process: a descriptor open for writing here could be
    /// inherited by another test's child until its exec, and running the file then fails
    /// (ETXTBSY).
    func installExecutable(_ text: String, at path: String) throws {
        try text.write(toFile: path + ".source", atomically: false, encoding: .utf8)
        let install = Process()
        install.executableURL = URL(fileURLWithPath: "/usr/bin/install")
        install.arguments = ["-m", "755", path + ".source", path]
        try install.run()
        install.waitUntilExit()
        #expect(install.terminationStatus == 0)
    }

    @Test func theScriptIsValidShellThatPassesItsInputOnAndQuotesTheBinary() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hook-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A fake "runner" (in a directory whose name needs quoting) records its arguments and input.
        let binDir = dir.appendingPathComponent("it's bin")
        try FileManager.default.createDirectory(at: binDir, withIntermediateDirectories: true)
        let fake = binDir.appendingPathComponent("runner").path
        let records = "#!/bin/sh\nprintf '%s|' \"$@\" > \"$(dirname \"$0\")/args\"\ncat > \"$(dirname \"$0\")/input\"\n"
        try installExecutable(records, at: fake)
        let hook = dir.appendingPathComponent("post-receive").path
        try HookInstaller.write(HookFile.script(event: "post-receive", runner: fake, entries: entries), to: hook)
        // An earlier hook, chained: it gets the same input, and its status is the hook's.
        try installExecutable("#!/bin/sh\ncat > \"$0.input\"\nexit 3\n", at: hook + ".runner-chained")
        let input = String(repeating: "0", count: 40) + " " + String(repeating: "1", count: 40) + " refs/heads/main\n"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: hook)
        let stdin = Pipe()
        process.standardInput = stdin
        // Another test's fork may still hold a descriptor of a file just written here until
        // its exec (ETXTBSY): a moment later it is gone.
        var attempts = 0
        while true {
            do { try process.run(); break } catch where attempts < 100 && "\(error)".contains("Text file busy") {
                attempts += 1
                usleep(20_000)
            }
        }
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 3, "the chained hook's status")
        #expect(try String(contentsOfFile: binDir.appendingPathComponent("args").path, encoding: .utf8)
                == "hook|run|post-receive|--hook|\(hook)|")
        #expect(try String(contentsOfFile: binDir.appendingPathComponent("input").path, encoding: .utf8) == input)
        #expect(try String(contentsOfFile: hook + ".runner-chained.input", encoding: .utf8) == input)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x").path),
                "nothing in an entry is shell text")
    }
}
