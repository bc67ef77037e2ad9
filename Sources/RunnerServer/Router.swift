import FoundationEssentials

/// Routes by method and path pattern (`/api/v1/runs/{id}`), apart from the handlers: a path
/// that exists with another method is 405, an unknown path 404.
public struct Router: Sendable {
    public typealias Handler = @Sendable (HTTPRequest, [String: String]) -> HTTPResponse

    struct Route: Sendable {
        var method: String
        var pattern: String
        var segments: [Substring]
        var handler: Handler
    }

    private var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        routes.append(Route(method: method, pattern: pattern, segments: pattern.split(separator: "/"), handler: handler))
    }

    public enum Match {
        case found(Handler, [String: String], pattern: String)
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    public func match(method: String, path: String) -> Match {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        // A trailing slash or an empty segment names nothing.
        guard !parts.contains(where: \.isEmpty) || path == "/" else { return .notFound }
        var allowed: [String] = []
        for route in routes {
            guard let captures = Self.captures(route.segments, Array(parts)) else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                return .found(route.handler, captures, pattern: route.pattern)
            }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
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
