import Foundation
import RunnerTestSupport
import Testing
@testable import RunnerCLI

/// The installed hook script: what it runs, with what quoting, and the registrations it carries.
@Suite struct HookScriptTests {
    let entries = [
        HookCommand.Entry(pipeline: "/srv/it's here/docs-publish.yaml", refs: ["refs/heads/main", "refs/tags/v*"], param: "targetRef",
                          state: "/srv/state $(touch x)"),
        HookCommand.Entry(pipeline: "/srv/p.yaml", refs: nil, param: nil, state: "/srv/.runner"),
    ]

    @Test func registrationsRoundTripThroughTheScript() {
        let text = HookCommand.script(event: "post-receive", runner: "/opt/run'ner/bin/runner", entries: entries)
        #expect(HookCommand.entries(inHook: text) == entries)
        #expect(HookCommand.entries(inHook: "#!/bin/sh\necho someone else's hook\n") == nil, "a hook runner did not write is not read as one")
    }

    @Test func theScriptIsValidShellThatPassesItsInputOnAndQuotesTheBinary() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hook-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A fake "runner" (in a directory whose name needs quoting) records its arguments and input.
        let binDir = dir.appendingPathComponent("it's bin")
        try FileManager.default.createDirectory(at: binDir, withIntermediateDirectories: true)
        let fake = binDir.appendingPathComponent("runner").path
        try "#!/bin/sh\nprintf '%s|' \"$@\" > \"$(dirname \"$0\")/args\"\ncat > \"$(dirname \"$0\")/input\"\n"
            .write(toFile: fake, atomically: false, encoding: .utf8)
        chmod(fake, 0o755)
        let hook = dir.appendingPathComponent("post-receive").path
        try HookCommand.write(HookCommand.script(event: "post-receive", runner: fake, entries: entries), to: hook)
        // An earlier hook, chained: it gets the same input, and its status is the hook's.
        try "#!/bin/sh\ncat > \"$0.input\"\nexit 3\n".write(toFile: hook + ".runner-chained", atomically: false, encoding: .utf8)
        chmod(hook + ".runner-chained", 0o755)
        let input = "0000000000000000000000000000000000000000 1111111111111111111111111111111111111111 refs/heads/main\n"
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
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x").path), "nothing in an entry is shell text")
    }

    @Test func deletionsAndPushers() {
        #expect(HookCommand.Update(old: "1", new: String(repeating: "0", count: 40), ref: "refs/heads/x").isDeletion)
        #expect(!HookCommand.Update(old: "1", new: "2", ref: "refs/heads/x").isDeletion)
        #expect(HookCommand.pusher(["USER": "git", "GL_USERNAME": "alice"]) == "alice")
        #expect(HookCommand.pusher(["USER": "bob"]) == "bob")
        #expect(HookCommand.pusher([:]) == nil)
    }
}
