import Foundation
import Testing
import RunnerCore
@testable import RunnerEngine

/// Secret param values are sealed at rest (issue 16, item 5; the non-negotiable "never at rest").
@Suite struct SecretBoxTests {
    func box() throws -> (SecretBox, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("box-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return (SecretBox(state: StateDirectory(root: dir), environment: [:]), dir)
    }

    @Test func sealedValuesOpenToWhatTheyWere() throws {
        let (box, dir) = try box()
        defer { try? FileManager.default.removeItem(at: dir) }
        let params: [String: Value] = ["token": .string("s3cr3t"), "keys": .list([.string("a"), .string("b")]), "n": .int(3)]
        let sealed = try box.seal(params, names: ["token", "keys"])
        #expect(sealed["n"] == .int(3), "what is not secret stays as it is")
        for name in ["token", "keys"] {
            guard case .string(let text) = sealed[name] else { Issue.record("\(name) not sealed"); continue }
            #expect(text.hasPrefix(SecretBox.prefix) && !text.contains("s3cr3t"))
        }
        #expect(try box.reveal(sealed) == params)
        #expect(try box.seal(sealed, names: ["token", "keys"]) == sealed, "sealing twice changes nothing")
        let key = dir.appendingPathComponent("secret.key").path
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func noKeyIsMadeForARunWithoutSecrets() throws {
        let (box, dir) = try box()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try box.seal(["n": .int(1)], names: []) == ["n": .int(1)])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("secret.key").path))
    }

    @Test func anotherKeyOrAnAlteredValueDoesNotOpen() throws {
        let (box, dir) = try box()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sealed = try box.seal(["token": .string("s3cr3t")], names: ["token"])
        let (other, otherDir) = try self.box()
        defer { try? FileManager.default.removeItem(at: otherDir) }
        _ = try other.seal(["x": .string("y")], names: ["x"])  // makes its own key
        #expect(throws: SecretBox.Unavailable.self) { try other.reveal(sealed) }
        guard case .string(var text) = sealed["token"] else { return }
        text = String(text.dropLast(4)) + (text.hasSuffix("AAAA") ? "BBBB" : "AAAA")
        #expect(throws: SecretBox.Unavailable.self) { try box.reveal(["token": .string(text)]) }
        #expect(throws: SecretBox.Unavailable.self) { try box.reveal(["other": sealed["token"]!]) }
    }
}
