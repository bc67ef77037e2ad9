import FoundationEssentials
import RunnerCore

extension APIServer {
    /// An error answer before it is written: a refused token (401, 403), a store that failed
    /// (503 while it may pass, else 500). The runner writes it as `{code, message, hint}`, a
    /// contract route in its own error shape.
    struct ErrorAnswer {
        var status: Int
        var code: DiagnosticCode
        var message: String
        var headers: [HTTPResponse.Header] = []

        var response: HTTPResponse {
            var response = APIServer.error(status, code, message)
            response.headers += headers
            return response
        }
    }

    /// Checks the request's API token against the role its route needs: nil when the request
    /// may go on (its `actor` set to the token's name). `basic`: the route also takes the token
    /// as the password of HTTP Basic (a contract declaring `auth: [basic]`).
    func authorize(_ request: inout HTTPRequest, needing needed: Role, basic: Bool = false) -> ErrorAnswer? {
        switch AccessTokens.authenticate(request.header("Authorization"), store: service.store, basic: basic) {
        case .failure(.storeUnavailable(let why)):
            return ErrorAnswer(status: 503, code: .stateBusy,
                                 message: "cannot check the API token: the state store is unavailable (\(why))",
                                 headers: [("Retry-After", "1")])
        case .failure(let failure):
            return ErrorAnswer(status: 401, code: .unauthorized, message: failure.message,
                                 headers: [("WWW-Authenticate", basic ? "Basic realm=\"runner\"" : "Bearer")])
        case .success(let token):
            guard token.role >= needed else {
                return ErrorAnswer(status: 403, code: .forbidden, message: "token '\(token.name)' is "
                                     + "\(token.role.rawValue); \(request.method) \(request.path) needs \(needed.rawValue)")
            }
            request.actor = token.name
            return nil
        }
    }
}
