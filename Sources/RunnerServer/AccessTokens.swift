import FoundationEssentials
import RunnerCore
import RunnerCrypto

/// API tokens: `rnr_<id>_<secret>`. The id finds the record; the whole token's SHA-256 is what
/// is stored and compared (in constant time). The token itself is shown once and never kept.
public enum AccessTokens {
    public enum Failure: Error, Equatable {
        case missing, malformed, unknown, revoked
        /// The store could not be read (it is locked or failing): not the caller's fault.
        case storeUnavailable(String)
        public var message: String {
            switch self {
            case .storeUnavailable(let why): "cannot check the API token now: the state store is unavailable (\(why))"
            case .missing: "this route needs an API token (Authorization: Bearer TOKEN)"
            case .malformed: "the Authorization header is not 'Bearer rnr_…'"
            case .unknown: "the API token is not valid"
            case .revoked: "the API token was revoked"
            }
        }
    }

    /// A new token and the record to store for it.
    public static func make(name: String, role: Role, at now: Date = Date()) -> (token: String, record: TokenRecord)? {
        guard let id = Crypto.randomBytes(8), let secret = Crypto.randomBytes(32) else { return nil }
        let token = "rnr_\(hex(id))_\(hex(secret))"
        let hash = Crypto.sha256Hex(Array(token.utf8))
        return (token, TokenRecord(id: hex(id), name: name, role: role, hash: hash, createdAt: now))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }, as: UTF8.self)
    }

    /// The token record an `Authorization` header proves, or why it proves none. `basic`: HTTP
    /// Basic is taken too, its password being the token (a netrc's `password`).
    public static func authenticate(_ header: String?, store: any AccessTokenStore,
                                    basic: Bool = false) -> Result<TokenRecord, Failure> {
        guard let header, !header.isEmpty else { return .failure(.missing) }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return .failure(.malformed) }
        let token: String
        switch parts[0].lowercased() {
        case "bearer": token = String(parts[1]).trimmingSpaces()
        case "basic" where basic:
            guard let decoded = Data(base64Encoded: String(parts[1]).trimmingSpaces()),
                  let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else { return .failure(.malformed) }
            token = String(decoding: decoded[decoded.index(after: colon)...], as: UTF8.self)
        default: return .failure(.malformed)
        }
        let fields = token.split(separator: "_")
        guard token.utf8.count == 4 + 16 + 1 + 64, fields.count == 3, fields[0] == "rnr" else {
            return .failure(.malformed)
        }
        let found: TokenRecord?
        do { found = try store.token(id: String(fields[1])) } catch { return .failure(.storeUnavailable("\(error)")) }
        guard let record = found else { return .failure(.unknown) }
        guard Crypto.constantTimeEqual(Array(Crypto.sha256Hex(Array(token.utf8)).utf8), Array(record.hash.utf8)) else {
            return .failure(.unknown)
        }
        guard record.revokedAt == nil else { return .failure(.revoked) }
        return .success(record)
    }

    /// The trace id of a request: `traceparent`'s (W3C), else `X-Request-Id` (printable, ≤ 128).
    public static func traceID(traceparent: String?, requestID: String?) -> String? {
        if let traceparent {
            let parts = traceparent.split(separator: "-")
            if parts.count == 4, parts[1].count == 32, parts[1].allSatisfy(\.isHexDigit) {
                return String(parts[1]).lowercased()
            }
        }
        if let requestID, !requestID.isEmpty, requestID.count <= 128,
           requestID.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) {
            return requestID
        }
        return nil
    }
}
