import Testing
@testable import RunnerGit

/// What a hook is told moved: stdin lines for post-receive and reference-transaction, HEAD for
/// post-commit and post-merge.
@Suite struct RefUpdateTests {
    let a = String(repeating: "a", count: 40), b = String(repeating: "b", count: 40)
    let zero = String(repeating: "0", count: 40)

    @Test func postReceiveReadsEveryWellFormedLine() {
        let input = "\(a) \(b) refs/heads/main\n\nmalformed\n\(a) \(b)\n"
            + "\(zero) \(a) refs/tags/v1\r\n\(b) \(zero) refs/heads/gone\n"
        let updates = RefUpdate.updates(event: "post-receive", hookArguments: [], input: input, head: nil)
        #expect(updates == [RefUpdate(old: a, new: b, ref: "refs/heads/main"),
                            RefUpdate(old: zero, new: a, ref: "refs/tags/v1"),
                            RefUpdate(old: b, new: zero, ref: "refs/heads/gone")])
        #expect(updates.map(\.isDeletion) == [false, false, true])
        #expect(RefUpdate.updates(event: "post-receive", hookArguments: [], input: "", head: nil) == [])
        let line = "\(a) \(b) refs/heads/a b\n"
        let spaced = RefUpdate.updates(event: "post-receive", hookArguments: [], input: line, head: nil)
        #expect(spaced == [RefUpdate(old: a, new: b, ref: "refs/heads/a b")], "the ref is the rest of the line")
    }

    @Test func referenceTransactionCountsOnlyCommittedUpdates() {
        var readsInput = false
        func stdin() -> String {
            readsInput = true
            return "\(a) \(b) refs/heads/main\n"
        }
        func updates(_ arguments: [String]) -> [RefUpdate] {
            RefUpdate.updates(event: "reference-transaction", hookArguments: arguments, input: stdin(), head: nil)
        }
        #expect(updates(["prepared"]) == [])
        #expect(updates(["aborted"]) == [])
        #expect(!readsInput, "stdin is not read for a transaction that is not committed")
        #expect(updates([]) == [])
        #expect(updates(["committed"]) == [RefUpdate(old: a, new: b, ref: "refs/heads/main")])
    }

    @Test func postCommitAndPostMergeAreHeadMoving() {
        var readsInput = false
        func stdin() -> String {
            readsInput = true
            return "\(a) \(b) refs/heads/main\n"
        }
        for event in ["post-commit", "post-merge"] {
            func updates(_ head: (ref: String?, sha: String)?) -> [RefUpdate] {
                RefUpdate.updates(event: event, hookArguments: ["0"], input: stdin(), head: head)
            }
            #expect(updates(("refs/heads/main", b)) == [RefUpdate(old: "", new: b, ref: "refs/heads/main")])
            #expect(updates((nil, b)) == [RefUpdate(old: "", new: b, ref: "HEAD")], "a detached HEAD")
            #expect(updates(nil) == [], "an unborn HEAD")
        }
        #expect(!readsInput)
    }

    @Test func deletionsAndPushers() {
        #expect(RefUpdate(old: "1", new: String(repeating: "0", count: 40), ref: "refs/heads/x").isDeletion)
        #expect(!RefUpdate(old: "1", new: "2", ref: "refs/heads/x").isDeletion)
        #expect(RefUpdate.pusher(["USER": "git", "GL_USERNAME": "alice"]) == "alice")
        #expect(RefUpdate.pusher(["USER": "bob"]) == "bob")
        #expect(RefUpdate.pusher(["GL_USERNAME": "", "USER": "bob"]) == "bob", "an empty name is no name")
        #expect(RefUpdate.pusher([:]) == nil)
    }
}
