import CCryptoShim

/// libcrypto, thinly: SHA-256, constant-time comparison, random bytes. Nothing hand-rolled.
/// The library is loaded on first use (CCryptoShim): only the HTTP API needs it.
public enum Crypto {
    /// Why libcrypto cannot be used (nil when it can). Loads it: a server checks this before
    /// it starts, so the calls below never meet a missing library.
    public static var unavailable: String? {
        runner_crypto_error().map { String(cString: $0) }
    }

    /// SHA-256 of `bytes`, as 64 lowercase hex digits.
    public static func sha256Hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var digest = [UInt8](repeating: 0, count: 32)
        let input = Array(bytes)
        let ok = input.withUnsafeBytes { raw in runner_crypto_sha256(raw.baseAddress, raw.count, &digest) }
        precondition(ok == 1, "SHA-256 failed: \(unavailable ?? "libcrypto error")")
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }, as: UTF8.self)
    }

    /// SHA-256 of `bytes` as hex, or nil when libcrypto is unavailable (never traps).
    public static func sha256HexIfAvailable<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
        unavailable == nil ? sha256Hex(bytes) : nil
    }

    /// Whether two byte strings are equal, in time that depends only on their length (false
    /// when libcrypto is unavailable).
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in runner_crypto_equal(x.baseAddress, y.baseAddress, a.count) == 1 } }
    }

    /// `plaintext` sealed with AES-256-GCM under `key` (32 bytes): a random 12-byte nonce, the
    /// ciphertext and the 16-byte tag, in that order; `context` is authenticated with it
    /// (opening it under another context fails). Nil when libcrypto cannot.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], context: [UInt8]) -> [UInt8]? {
        guard key.count == 32, let nonce = randomBytes(12), plaintext.count < Int(Int32.max) - 64 else { return nil }
        var out = [UInt8](repeating: 0, count: plaintext.count)
        var tag = [UInt8](repeating: 0, count: 16)
        let ok = plaintext.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                runner_crypto_seal(key, nonce, context, Int32(context.count), input.baseAddress, Int32(plaintext.count),
                                   output.baseAddress, &tag)
            }
        }
        return ok == 1 ? nonce + out + tag : nil
    }

    /// What `seal` sealed, or nil when `sealed` was not sealed under `key` and `context` (or
    /// was altered).
    public static func open(_ sealed: [UInt8], key: [UInt8], context: [UInt8]) -> [UInt8]? {
        guard key.count == 32, sealed.count >= 28 else { return nil }
        let nonce = Array(sealed[..<12]), tag = Array(sealed[(sealed.count - 16)...])
        let body = Array(sealed[12..<(sealed.count - 16)])
        var out = [UInt8](repeating: 0, count: body.count)
        let ok = body.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                runner_crypto_open(key, nonce, context, Int32(context.count), input.baseAddress, Int32(body.count), tag,
                                   output.baseAddress)
            }
        }
        return ok == 1 ? out : nil
    }

    /// `count` bytes from libcrypto's CSPRNG; nil if it cannot provide them.
    public static func randomBytes(_ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        return runner_crypto_random(&bytes, Int32(count)) == 1 ? bytes : nil
    }
}
