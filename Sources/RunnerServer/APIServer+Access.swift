import FoundationEssentials
import RunnerCore

extension APIServer {
    /// Checks the request's API token against the role its route needs: nil when the request
    /// may go on (its `actor` set to the token's name), else the answer (401, 403, or 503
    /// while the store cannot be read).
    func authorize(_ request: inout HTTPRequest, needing needed: Role) -> HTTPResponse? {
        switch AccessTokens.authenticate(request.header("Authorization"), store: service.store) {
        case .failure(.storeUnavailable(let why)):
            return Self.error(503, .stateBusy, "cannot check the API token: the state store is unavailable (\(why))")
                .with(header: ("Retry-After", "1"))
        case .failure(let failure):
            return Self.error(401, .unauthorized, failure.message).with(header: ("WWW-Authenticate", "Bearer"))
        case .success(let token):
            guard token.role >= needed else {
                return Self.error(403, .forbidden, "token '\(token.name)' is \(token.role.rawValue); "
                                  + "\(request.method) \(request.path) needs \(needed.rawValue)")
            }
            request.actor = token.name
            return nil
        }
    }
}
