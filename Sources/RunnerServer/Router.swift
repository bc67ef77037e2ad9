import FoundationEssentials
import RunnerCore

/// Routes by method and path pattern (`/api/v1/runs/{id}`), apart from the handlers: a path
/// that exists with another method is 405, an unknown path 404. Each route says who may call
/// it and the name its requests are counted under, so the server decides neither by the
/// request's path: a route declared later (a pipeline's contract) is one `add`.
public struct Router: Sendable {
    public typealias Handler = @Sendable (HTTPRequest, [String: String]) -> HTTPResponse

    /// Who may call a route.
    public enum Access: Sendable, Equatable {
        /// Anyone, without a token: the health check (load balancers have none).
        case open
        /// A token of this role or a higher one.
        case role(Role)

        /// Unless a route says otherwise: viewers read, operators change (launch, cancel).
        /// Also what a request no route takes needs, so that without a token an unknown path
        /// answers 401, as the API's contract says, and not which paths exist.
        public static func `default`(for method: String) -> Access {
            method == "GET" || method == "HEAD" ? .role(.viewer) : .role(.operator)
        }
    }

    public struct Route: Sendable {
        public let method: String
        public let pattern: String
        public let access: Access
        /// What `/metrics` counts its requests under: `GET /api/v1/runs/{id}` unless named.
        public let name: String
        public let handler: Handler
        let segments: [Substring]
        /// The token is also taken as HTTP Basic's password (a contract's `auth: [basic]`).
        var acceptsBasic = false
        /// How a refused request is answered on this route (a contract's error shape).
        var refusalShape: (@Sendable (APIServer.ErrorAnswer, HTTPRequest) -> HTTPResponse)?

        /// The name a request is counted under: a HEAD answered by a GET route keeps its method.
        func metricName(for method: String) -> String {
            method == self.method ? name : "\(method) \(pattern)"
        }
    }

    private var routes: [Route] = []

    /// A contract's path prefix (`/pipeline-promotions`): a request under it that no route
    /// takes (`/pipeline-promotions/a/b`, a wrong method) is answered in that contract's shape,
    /// with its token transports, not in the runner's.
    struct Fallback: Sendable {
        var segments: [Substring]
        var acceptsBasic: Bool
        var refusalShape: @Sendable (APIServer.ErrorAnswer, HTTPRequest) -> HTTPResponse
        /// The answer to a request no route takes: 404, or 405 when `allowed` methods take its path.
        var miss: @Sendable (HTTPRequest, _ allowed: [String]) -> HTTPResponse
    }

    private var fallbacks: [Fallback] = []

    public init() {}

    /// Adds a route; `access` is the method's default (`Access.default(for:)`) unless given.
    public mutating func add(_ method: String, _ pattern: String, access: Access? = nil, name: String? = nil,
                             _ handler: @escaping Handler) {
        routes.append(Route(method: method, pattern: pattern, access: access ?? .default(for: method),
                            name: name ?? "\(method) \(pattern)", handler: handler,
                            segments: pattern.split(separator: "/")))
    }

    /// Adds a contract's route: its own token transports and refusal shape.
    mutating func add(_ method: String, _ pattern: String, access: Access, basic: Bool,
                      refusal: @escaping @Sendable (APIServer.ErrorAnswer, HTTPRequest) -> HTTPResponse,
                      _ handler: @escaping Handler) {
        var route = Route(method: method, pattern: pattern, access: access, name: "\(method) \(pattern)",
                          handler: handler, segments: pattern.split(separator: "/"))
        route.acceptsBasic = basic
        route.refusalShape = refusal
        routes.append(route)
    }

    /// Adds a contract's fallback for the paths under `prefix` (the first one added wins).
    mutating func addFallback(_ fallback: Fallback) {
        fallbacks.append(fallback)
    }

    public enum Match {
        case found(Route, [String: String])
        case methodNotAllowed(allowed: [String])
        case notFound

        /// What the request needs to be answered: its route's access; for a request that no
        /// route takes (404, 405), its method's default.
        public func access(method: String) -> Access {
            if case .found(let route, _) = self { return route.access }
            return .default(for: method)
        }
    }

    public func match(method: String, path: String) -> Match {
        let parts = Array(path.split(separator: "/", omittingEmptySubsequences: false).dropFirst())
        var allowed: [String] = []
        // A trailing slash or an empty segment names nothing.
        if !parts.contains(where: \.isEmpty) || path == "/" {
            for route in routes where route.segments.count == parts.count {
                guard let captures = Self.captures(route.segments, parts) else { continue }
                if route.method == method || (method == "HEAD" && route.method == "GET") {
                    return .found(route, captures)
                }
                allowed.append(route.method)
            }
        }
        guard let fallback = fallbacks.first(where: { parts.starts(with: $0.segments) }) else {
            return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
        }
        let miss = fallback.miss, methods = allowed
        var route = Route(method: method, pattern: "/" + fallback.segments.joined(separator: "/") + "/…",
                          access: .default(for: method), name: "unmatched",
                          handler: { request, _ in miss(request, methods) }, segments: [])
        route.acceptsBasic = fallback.acceptsBasic
        route.refusalShape = fallback.refusalShape
        return .found(route, [:])
    }

    static func captures(_ pattern: [Substring], _ parts: [Substring]) -> [String: String]? {
        guard pattern.count == parts.count else { return nil }
        var captures: [String: String] = [:]
        for (p, part) in zip(pattern, parts) {
            if p.hasPrefix("{") && p.hasSuffix("}") {
                // libmicrohttpd has decoded the path already: a second decoding would read
                // "%2525" as "%".
                guard !part.isEmpty else { return nil }
                captures[String(p.dropFirst().dropLast())] = String(part)
            } else if p != part {
                return nil
            }
        }
        return captures
    }
}
