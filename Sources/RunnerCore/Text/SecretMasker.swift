/// Replaces every occurrence of a run's secret values by `***`, on bytes (output that is not
/// UTF-8 passes through unchanged). Where two secrets overlap, the occurrence that starts
/// first wins, the longer of two starting at the same byte; what it masks is never searched
/// again. Secrets are the raw values of secret params (each item of a list on its own, and
/// the list as its variable holds it) and of secret `env` entries: an encoding a step makes of
/// them (base64, URL escaping) is not masked (docs/DECISIONS.md).
public struct SecretMasker: Sendable {
    public static let mask: [UInt8] = Array("***".utf8)

    /// Distinct, non-empty, longest first.
    let secrets: [[UInt8]]
    /// The longest secret's length: a stream withholds at most one byte less.
    let longest: Int

    public init(_ secrets: [String]) {
        let distinct = Set(secrets.filter { !$0.isEmpty }.map { Array($0.utf8) })
        self.secrets = distinct.sorted { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) }
        longest = self.secrets.first?.count ?? 0
    }

    public var isEmpty: Bool { secrets.isEmpty }

    /// `text` with every secret masked.
    public func mask(_ text: String) -> String {
        guard !isEmpty else { return text }
        let bytes = Array(text.utf8)
        let masked = mask(bytes)
        return masked.count == bytes.count && masked == bytes ? text : String(decoding: masked, as: UTF8.self)
    }

    /// `bytes` with every secret masked.
    public func mask(_ bytes: [UInt8]) -> [UInt8] {
        guard !isEmpty else { return bytes }
        var out: [UInt8] = []
        _ = scan(bytes[...], into: &out, final: true)
        return out
    }

    /// Masks what can be masked of `bytes` into `out`; returns where the part begins that
    /// could still be the start of a secret continued by what comes next (nothing when
    /// `final`). Bytes before it are complete: no secret can begin there and end later.
    func scan(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8], final: Bool) -> Int {
        var i = bytes.startIndex
        var copied = i
        let end = bytes.endIndex
        while i < end {
            // What the next piece may complete into a (longer) secret waits for it: masking
            // a shorter secret here would show the rest of the longer one.
            if !final && end - i < longest && isPrefixOfSecret(bytes[i..<end]) { break }
            if let length = match(bytes, at: i) {
                out.append(contentsOf: bytes[copied..<i])
                out.append(contentsOf: Self.mask)
                i += length
                copied = i
                continue
            }
            i += 1
        }
        out.append(contentsOf: bytes[copied..<i])
        return i
    }

    /// The length of the longest secret that starts at `i`.
    private func match(_ bytes: ArraySlice<UInt8>, at i: Int) -> Int? {
        let first = bytes[i]
        for secret in secrets where secret[0] == first && secret.count <= bytes.endIndex - i {
            if bytes[i..<(i + secret.count)].elementsEqual(secret) { return secret.count }
        }
        return nil
    }

    /// Whether `tail` (shorter than the longest secret) is where some secret begins.
    private func isPrefixOfSecret(_ tail: ArraySlice<UInt8>) -> Bool {
        secrets.contains { $0.count > tail.count && $0.starts(with: tail) }
    }

    /// Masks a stream that arrives in pieces (a step's output, read 64 KiB at a time or as the
    /// step writes it): a secret cut across two pieces is masked as if it came whole. The
    /// bytes that may begin a secret are held back until the next piece shows whether they
    /// do (at most one byte less than the longest secret), or until `finish`.
    public final class Stream: @unchecked Sendable {
        private let masker: SecretMasker
        private var held: [UInt8] = []

        public init(_ masker: SecretMasker) { self.masker = masker }

        /// What of `bytes` (after what was held) can be passed on, masked.
        public func feed(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
            guard !masker.isEmpty else { return Array(bytes) }
            held.append(contentsOf: bytes)
            var out: [UInt8] = []
            out.reserveCapacity(held.count)
            let stop = masker.scan(held[...], into: &out, final: false)
            held.removeSubrange(..<stop)
            return out
        }

        /// What was held back, masked: the stream has ended.
        public func finish() -> [UInt8] {
            defer { held = [] }
            return masker.mask(held)
        }
    }
}
