import Foundation
import RunnerTestSupport
import Testing
@testable import RunnerGit

/// Installing, removing and listing hooks as file operations, in a repository made for the test.
@Suite struct HookInstallerTests {
    let repository: TemporaryGitRepository
    let installer: HookInstaller
    let docs = HookEntry(pipeline: "/p/docs.yaml", refs: ["refs/heads/main"], param: "targetRef", state: "/s")
    let site = HookEntry(pipeline: "/p/site.yaml", refs: nil, param: nil, state: "/s")

    init() throws {
        repository = try TemporaryGitRepository()
        installer = try HookInstaller(repository: repository.path, runner: "/bin/runner")
    }

    func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    @Test func theHooksDirectoryIsGitsOwnOrCoreHooksPath() throws {
        #expect(installer.directory == repository.path(".git/hooks"))
        try repository.git("config", "core.hooksPath", "githooks")
        let configured = try HookInstaller(repository: repository.path, runner: "/bin/runner")
        #expect(configured.directory == repository.path("githooks"))
        let plain = FileManager.default.temporaryDirectory.appendingPathComponent("plain-\(UUID().uuidString)")
        #expect(throws: (any Error).self) { try HookInstaller(repository: plain.path, runner: "/bin/runner") }
    }

    @Test func anotherHookIsChainedOnInstallAndRestoredWithTheLastRegistration() throws {
        try FileManager.default.createDirectory(atPath: installer.directory, withIntermediateDirectories: true)
        let theirs = "#!/bin/sh\necho theirs\n"
        try theirs.write(toFile: installer.hook("post-receive"), atomically: false, encoding: .utf8)

        let adopted = try installer.adopt("post-receive")
        #expect(adopted.hasChainedExisting && adopted.entries.isEmpty)
        #expect(text(installer.hook("post-receive") + HookFile.chainedSuffix) == theirs)
        try installer.write("post-receive", entries: [docs, site])
        let again = try installer.adopt("post-receive")
        #expect(!again.hasChainedExisting && again.entries == [docs, site], "runner's own hook is read, not chained")
        #expect(installer.list().map(\.event) == ["post-receive"])
        #expect(installer.list().first?.chained == true)

        let one = try installer.unregister("post-receive", pipeline: docs.pipeline)
        #expect(one.removed == 1 && !one.hasRestoredChained)
        #expect(installer.list().first?.entries == [site])
        let rest = try installer.unregister("post-receive", pipeline: nil)
        #expect(rest.removed == 1 && rest.hasRestoredChained)
        #expect(text(installer.hook("post-receive")) == theirs)
        #expect(!FileManager.default.fileExists(atPath: installer.hook("post-receive") + HookFile.chainedSuffix))
        #expect(installer.list().isEmpty)
    }

    @Test func aForeignHookWithAChainedOneAlreadyThereIsRefused() throws {
        try FileManager.default.createDirectory(atPath: installer.directory, withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: installer.hook("post-commit"), atomically: false, encoding: .utf8)
        let chained = installer.hook("post-commit") + HookFile.chainedSuffix
        try "#!/bin/sh\n".write(toFile: chained, atomically: false, encoding: .utf8)
        #expect(throws: HookInstaller.Failure.self) { try installer.adopt("post-commit") }
        #expect(text(installer.hook("post-commit")) == "#!/bin/sh\n", "nothing moved")
    }

    @Test func removingFromAHookThatIsNotRunnersDoesNothing() throws {
        #expect(try installer.unregister("post-merge", pipeline: nil).removed == 0)
        try FileManager.default.createDirectory(atPath: installer.directory, withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: installer.hook("post-merge"), atomically: false, encoding: .utf8)
        #expect(try installer.unregister("post-merge", pipeline: nil).removed == 0)
        #expect(text(installer.hook("post-merge")) == "#!/bin/sh\n")
        try installer.write("post-commit", entries: [docs])
        #expect(try installer.unregister("post-commit", pipeline: "/p/other.yaml").removed == 0)
        #expect(installer.list().first?.entries == [docs], "another pipeline's registration stays")
    }

    @Test func aWrittenHookIsExecutableAndCallsTheRunner() throws {
        _ = try installer.adopt("post-commit")
        try installer.write("post-commit", entries: [docs])
        let attributes = try FileManager.default.attributesOfItem(atPath: installer.hook("post-commit"))
        let mode = attributes[.posixPermissions] as? Int
        #expect(mode == 0o755)
        #expect(text(installer.hook("post-commit"))?.contains("runner='/bin/runner'") == true)
        #expect(!FileManager.default.fileExists(atPath: installer.hook("post-commit") + ".runner-tmp"))
    }
}
