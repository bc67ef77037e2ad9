#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore
import RunnerCrypto

/// Secret param values at rest: a run's record keeps each one sealed (AES-256-GCM, libcrypto)
/// under the state's key, never in clear, and the executor opens them to build its steps'
/// environment. The key is 32 random bytes in `secret.key` beside `state.db` (0600, made on
/// first need), or the file `RUNNER_SECRET_KEY_FILE` names (several servers sharing a store
/// share it). A copy of the database alone does not reveal a secret; losing the key makes
/// the secret params of unfinished runs unrecoverable (such a run fails with
/// SECRET_UNAVAILABLE, and is launched again).
public struct SecretBox: Sendable {
    /// A sealed value: this prefix, then base64 of nonce, ciphertext and tag.
    public static let prefix = "runner-sealed:v1:"

    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    let keyPath: String

    public init(state: StateDirectory, environment: [String: String]) {
        keyPath = environment["RUNNER_SECRET_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? state.root.appendingPathComponent("secret.key").path
    }

    /// `params` with the values of `names` sealed (nothing is done, and no key made, for a
    /// run without secret values).
    public func seal(_ params: [String: Value], names: Set<String>) throws -> [String: Value] {
        guard params.keys.contains(where: { names.contains($0) }) else { return params }
        let key = try Self.key(at: keyPath, create: true)
        var sealed = params
        for (name, value) in params where names.contains(name) && !Self.isSealed(value) {
            guard let plaintext = try? Array(JSONEncoder().encode(value)) else { continue }
            guard let box = Crypto.seal(plaintext, key: key, context: Self.context(name)) else {
                throw Unavailable(description: "cannot seal secret param '\(name)': \(Crypto.unavailable ?? "libcrypto failed")")
            }
            sealed[name] = .string(Self.prefix + Data(box).base64EncodedString())
        }
        return sealed
    }

    /// `params` with every sealed value opened; throws when one cannot be (the key is missing
    /// or is not the one it was sealed with).
    public func reveal(_ params: [String: Value]) throws -> [String: Value] {
        guard params.values.contains(where: Self.isSealed) else { return params }
        let key = try Self.key(at: keyPath, create: false)
        var opened = params
        for (name, value) in params {
            guard case .string(let text) = value, text.hasPrefix(Self.prefix) else { continue }
            guard let box = Data(base64Encoded: String(text.dropFirst(Self.prefix.count))),
                  let plaintext = Crypto.open(Array(box), key: key, context: Self.context(name)),
                  let revealed = try? JSONDecoder().decode(Value.self, from: Data(plaintext)) else {
                throw Unavailable(description: "secret param '\(name)' cannot be opened with the key \(keyPath) (it is not the key it was sealed with)")
            }
            opened[name] = revealed
        }
        return opened
    }

    static func isSealed(_ value: Value) -> Bool {
        if case .string(let text) = value { return text.hasPrefix(prefix) }
        return false
    }

    /// What a sealed value is bound to: its param's name (a run retried from another keeps it).
    static func context(_ name: String) -> [UInt8] { Array("runner secret param \(name)".utf8) }

    private static let keys = Protected<[String: [UInt8]]>([:])

    /// The key at `path`, read once per process; made (atomically, 0600) when `create`.
    static func key(at path: String, create: Bool) throws -> [UInt8] {
        if let known = keys.withLock({ $0[path] }) { return known }
        if let read = FileManager.default.contents(atPath: path), read.count == 32 {
            keys.withLock { $0[path] = Array(read) }
            return Array(read)
        }
        guard create else { throw Unavailable(description: "the secret key \(path) is missing: the run's secret params cannot be opened") }
        guard let fresh = Crypto.randomBytes(32) else {
            throw Unavailable(description: "cannot make a secret key: \(Crypto.unavailable ?? "libcrypto failed")")
        }
        let temporary = path + ".new-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Unavailable(description: "cannot write the secret key \(path): \(String(cString: strerror(errno)))") }
        let written = fresh.withUnsafeBytes { write(fd, $0.baseAddress, 32) }
        fsync(fd)
        close(fd)
        defer { unlink(temporary) }
        // Linked into place: of two processes making it at once, one key wins and both use it.
        guard written == 32, link(temporary, path) == 0 || errno == EEXIST,
              let stored = FileManager.default.contents(atPath: path), stored.count == 32 else {
            throw Unavailable(description: "cannot write the secret key \(path)")
        }
        keys.withLock { $0[path] = Array(stored) }
        return Array(stored)
    }
}
