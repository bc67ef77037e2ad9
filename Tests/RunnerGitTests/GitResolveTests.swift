import Foundation
import RunnerCore
import RunnerTestSupport
import Testing
@testable import RunnerGit

/// Real repositories, made with the `git` CLI in a temp directory.
final class GitFixture {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Runs git in `dir/sub`; returns its trimmed stdout.
    @discardableResult
    func git(_ arguments: [String], in sub: String = "work", input: String? = nil) throws -> String {
        try TemporaryGitRepository.git(arguments, in: dir.appendingPathComponent(sub), input: input)
    }

    /// `work`: three commits on main (c1, c2, c3), a lightweight tag `light` at c2, an
    /// annotated tag `v1.0` at c1, a branch `feature` at c2.
    func makeWork() throws -> [String] {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("work"), withIntermediateDirectories: true)
        try git(["init", "-q", "-b", "main"])
        var commits: [String] = []
        for n in 1...3 {
            try "v\(n)\n".write(to: dir.appendingPathComponent("work/file"), atomically: false, encoding: .utf8)
            try git(["add", "file"])
            try git(["commit", "-q", "-m", "c\(n)"])
            commits.append(try git(["rev-parse", "HEAD"]))
        }
        try git(["tag", "light", commits[1]])
        try git(["tag", "-a", "v1.0", "-m", "release", commits[0]])
        try git(["branch", "feature", commits[1]])
        return commits
    }
}

@Suite struct GitResolveTests {
    @Test func everyRefFormResolvesToItsCommit() throws {
        let f = try GitFixture()
        let c = try f.makeWork()
        let repo = try GitRepository(path: f.path("work"))
        func sha(_ ref: String) throws -> String { try repo.resolveCommit(ref).sha }
        #expect(try sha("main") == c[2])
        #expect(try sha("refs/heads/main") == c[2])
        #expect(try sha("feature") == c[1])
        #expect(try sha("HEAD") == c[2])
        #expect(try sha("HEAD~2") == c[0])
        #expect(try sha("main^") == c[1])
        #expect(try sha("main~1^") == c[0])
        #expect(try sha("light") == c[1], "a lightweight tag")
        let tagObject = try f.git(["rev-parse", "v1.0"])
        #expect(tagObject != c[0])
        #expect(try sha("v1.0") == c[0], "an annotated tag is peeled to its commit")
        #expect(try sha("refs/tags/v1.0") == c[0])
        #expect(try sha(c[1]) == c[1], "a full SHA")
        #expect(try sha(String(c[1].prefix(10))) == c[1], "a unique short SHA")
        #expect(try repo.resolveCommit("main") == ResolvedRef(ref: "main", sha: c[2]))
        // From a directory inside the work tree too.
        try FileManager.default.createDirectory(at: f.dir.appendingPathComponent("work/docs"), withIntermediateDirectories: true)
        #expect(try GitRepository(path: f.path("work/docs")).resolveCommit("main").sha == c[2])
    }

    @Test func remoteBranchesDetachedHeadAndBareRepositories() throws {
        let f = try GitFixture()
        let c = try f.makeWork()
        try f.git(["clone", "-q", "--bare", f.path("work"), f.path("bare.git")], in: "")
        let bare = try GitRepository(path: f.path("bare.git"))
        #expect(try bare.resolveCommit("main").sha == c[2])
        #expect(try bare.resolveCommit("v1.0").sha == c[0])
        try f.git(["clone", "-q", f.path("bare.git"), f.path("clone")], in: "")
        try f.git(["checkout", "-q", "--detach", c[0]], in: "clone")
        let clone = try GitRepository(path: f.path("clone"))
        #expect(try clone.resolveCommit("origin/main").sha == c[2], "a remote branch")
        #expect(try clone.resolveCommit("refs/remotes/origin/feature").sha == c[1])
        #expect(try clone.resolveCommit("HEAD").sha == c[0], "a detached HEAD")
    }

    @Test func unknownRefsAndObjectsThatAreNotCommitsAreRejected() throws {
        let f = try GitFixture()
        let c = try f.makeWork()
        let repo = try GitRepository(path: f.path("work"))
        func kind(_ ref: String) -> GitError.Kind? {
            do { _ = try repo.resolveCommit(ref); return nil } catch let error as GitError { return error.kind } catch { return nil }
        }
        #expect(kind("nope") == .notFound)
        #expect(kind("origin/main") == .notFound)
        #expect(kind(String(repeating: "ab", count: 20)) == .notFound, "40 hex that is no object")
        #expect(kind("HEAD~9") == .notFound, "past the first commit")
        let tree = try f.git(["rev-parse", "HEAD^{tree}"])
        let blob = try f.git(["rev-parse", "HEAD:file"])
        #expect(kind(tree) == .notACommit)
        #expect(kind(blob) == .notACommit)
        try f.git(["tag", "blobtag", blob])
        #expect(kind("blobtag") == .notACommit, "a tag of a blob")
        do {
            _ = try repo.resolveCommit("nope")
            Issue.record("resolved")
        } catch let error as GitError {
            #expect(error.message.contains("'nope'") && error.message.contains(repo.path), "names the ref and the repository: \(error.message)")
        }
        _ = c
    }

    @Test func ambiguousShortSHAsAreRejected() throws {
        let f = try GitFixture()
        _ = try f.makeWork()
        // Enough blobs that two share their first 4 hex digits.
        let input = (0..<700).map { "blob \($0)" }.joined(separator: "\n")
        var byPrefix: [String: Int] = [:]
        for (n, line) in input.split(separator: "\n").enumerated() {
            let file = f.dir.appendingPathComponent("work/b\(n)")
            try String(line).write(to: file, atomically: false, encoding: .utf8)
        }
        let shas = try f.git(["hash-object", "-w"] + (0..<700).map { "b\($0)" }).split(separator: "\n").map(String.init)
        for sha in shas { byPrefix[String(sha.prefix(4)), default: 0] += 1 }
        let shared = try #require(byPrefix.first { $0.value > 1 }?.key)
        let repo = try GitRepository(path: f.path("work"))
        #expect(throws: GitError.self) { _ = try repo.resolveCommit(shared) }
        do { _ = try repo.resolveCommit(shared) } catch let error as GitError { #expect(error.kind == .ambiguous) }
    }

    @Test func invalidNamesNeverReachLibgit2() throws {
        for ref in ["", "-x", "--upload-pack=x", "a b", "a..b", "main@{1}", "x.lock", "a\nb", "tab\there", "a:b", "a?", "a*", "[x", "a\\b", "/a", "a/", "~1"] {
            #expect(throws: GitError.self, "\(ref.debugDescription)") { try GitRepository.check(ref) }
        }
        for ref in ["main", "HEAD", "HEAD~2", "main^", "v1.0", "refs/heads/a;touch${IFS}x", "origin/main", "abcd", "feature/x-1"] {
            #expect(throws: Never.self, "\(ref)") { try GitRepository.check(ref) }
        }
    }

    @Test func shellMetacharactersInARefAreJustAName() throws {
        let f = try GitFixture()
        let c = try f.makeWork()
        let name = "a;touch${IFS}x"
        try f.git(["branch", name, c[0]])
        let repo = try GitRepository(path: f.path("work"))
        #expect(try repo.resolveCommit(name).sha == c[0])
        #expect(try repo.resolveCommit("refs/heads/" + name).sha == c[0])
        #expect(!FileManager.default.fileExists(atPath: f.path("work/x")))
        #expect(!FileManager.default.fileExists(atPath: "x"))
    }

    @Test func emptyRepositoriesAndNonRepositories() throws {
        let f = try GitFixture()
        try FileManager.default.createDirectory(at: f.dir.appendingPathComponent("empty"), withIntermediateDirectories: true)
        try f.git(["init", "-q", "-b", "main"], in: "empty")
        let empty = try GitRepository(path: f.path("empty"))
        for ref in ["HEAD", "main"] {
            do { _ = try empty.resolveCommit(ref); Issue.record("resolved \(ref)") } catch let error as GitError {
                #expect(error.kind == .emptyRepository, "\(ref): \(error.kind)")
            }
        }
        try FileManager.default.createDirectory(at: f.dir.appendingPathComponent("plain"), withIntermediateDirectories: true)
        do { _ = try GitRepository(path: f.path("plain/../plain")); Issue.record("opened") } catch let error as GitError {
            // A plain directory under /tmp: no repository on the way up either.
            #expect(error.kind == .noRepository)
        }
    }

    @Test func checkoutWritesExactlyThatCommitFromWorkTreesAndBareRepositories() throws {
        let f = try GitFixture()
        let c = try f.makeWork()
        // A later commit adds an executable script, a symlink and a nested file.
        let work = f.dir.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("docs/deep"), withIntermediateDirectories: true)
        try "#!/bin/sh\necho hi\n".write(to: work.appendingPathComponent("run.sh"), atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: work.appendingPathComponent("run.sh").path)
        try "nested\n".write(to: work.appendingPathComponent("docs/deep/page.md"), atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: work.appendingPathComponent("link").path, withDestinationPath: "file")
        try f.git(["add", "-A"])
        try f.git(["commit", "-q", "-m", "c4"])
        let c4 = try f.git(["rev-parse", "HEAD"])
        // The work tree moves on and has uncommitted changes: the checkout must not see them.
        try "dirty\n".write(to: work.appendingPathComponent("file"), atomically: false, encoding: .utf8)
        let statusBefore = try f.git(["status", "--porcelain"])

        let repo = try GitRepository(path: f.path("work"))
        let out = f.path("ws4")
        try repo.checkout(commit: c4, into: out)
        #expect(try String(contentsOfFile: out + "/file", encoding: .utf8) == "v3\n")
        #expect(try String(contentsOfFile: out + "/docs/deep/page.md", encoding: .utf8) == "nested\n")
        let mode = try FileManager.default.attributesOfItem(atPath: out + "/run.sh")[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o111 != 0 } == true, "the executable bit is kept")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/link") == "file")
        #expect(!FileManager.default.fileExists(atPath: out + "/.git"), "a checkout, not a clone")
        #expect(try f.git(["status", "--porcelain"]) == statusBefore, "the repository's index and work tree are untouched")
        #expect(try f.git(["rev-parse", "HEAD"]) == c4)

        // An older commit, from a bare clone: only that commit's files.
        try f.git(["clone", "-q", "--bare", f.path("work"), f.path("bare.git")], in: "")
        let bare = try GitRepository(path: f.path("bare.git"))
        let old = f.path("ws1")
        try bare.checkout(commit: c[0], into: old)
        #expect(try String(contentsOfFile: old + "/file", encoding: .utf8) == "v1\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: old).sorted() == ["file"])

        #expect(throws: GitError.self) { try bare.checkout(commit: String(repeating: "ab", count: 20), into: f.path("none")) }
        #expect(throws: GitError.self) { try bare.checkout(commit: "main", into: f.path("none")) }
    }
}
