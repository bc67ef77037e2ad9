import FoundationEssentials

/// API tokens as stored (their SHA-256 only).
///
/// Atomicity contract: `createToken` is atomic per name: of two concurrent creates of one name
/// at most one succeeds, the other throws `TokenNameTaken`. `revokeToken` checks that the
/// token is not revoked and revokes it in one step (the first revocation's time is kept).
public protocol AccessTokenStore: AnyObject, Sendable {
    /// Throws `TokenNameTaken` when a token (revoked or not) has the name.
    func createToken(_ token: TokenRecord) throws
    /// Every token, oldest first.
    func tokens() throws -> [TokenRecord]
    /// The token with this public id (revoked ones included: the caller says why it fails).
    func token(id: String) throws -> TokenRecord?
    /// Whether a token of that name was active and is now revoked.
    @discardableResult
    func revokeToken(name: String, at: Date) throws -> Bool
}

/// A token name is already used.
public struct TokenNameTaken: Error, CustomStringConvertible, Sendable, Equatable {
    public var name: String

    public init(name: String) { self.name = name }

    public var description: String { "a token named '\(name)' exists already" }
}

/// Who did what to which run, from which request, in the order it was recorded.
///
/// Atomicity contract: each append is one step, and the log's order is the order in which the
/// appends were stored (one sequence for the whole log, not a clock).
public protocol AuditLog: AnyObject, Sendable {
    func appendAudit(_ record: AuditRecord) throws
    /// The newest `limit` entries (1 to 10,000), newest first.
    func audit(limit: Int) throws -> [AuditRecord]
}
