import CHTTPDShim
import FoundationEssentials
import RunnerCore

/// A request as handlers see it: method, path, query, headers, body. Headers and query are
/// read while the request is being handled (they live in libmicrohttpd's connection).
public struct HTTPRequest {
    public var method: String
    public var path: String
    public var body: [UInt8]
    /// The body passed the server's limit; nothing of it was kept.
    public var isBodyTooLarge: Bool
    /// Why the server refuses the request before any handler sees it (no body was read).
    public var refusal: HTTPRefusal?
    /// Who sent it: the API token's name, once authenticated.
    public var actor: String?
    let lookupHeader: (String) -> String?
    let lookupQuery: (String) -> String?
    let raw: UnsafePointer<runner_http_request>?

    public init(method: String, path: String, body: [UInt8] = [], isBodyTooLarge: Bool = false,
                headers: [String: String] = [:], query: [String: String] = [:]) {
        self.method = method
        self.path = path
        self.body = body
        self.isBodyTooLarge = isBodyTooLarge
        let lowered = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        lookupHeader = { lowered[$0.lowercased()] }
        lookupQuery = { query[$0] }
        raw = nil
    }

    init(_ raw: UnsafePointer<runner_http_request>) {
        let request = raw.pointee
        method = String(cString: request.method)
        path = String(cString: request.url)
        body = Array(UnsafeBufferPointer(start: UnsafeRawPointer(request.body).assumingMemoryBound(to: UInt8.self),
                                         count: request.body_length))
        isBodyTooLarge = request.body_too_large != 0
        refusal = HTTPRefusal(framing: request.framing)
        lookupHeader = { name in runner_http_header(raw, name).map { String(cString: $0) } }
        lookupQuery = { name in runner_http_query(raw, name).map { String(cString: $0) } }
        self.raw = raw
    }

    /// A streamed body for this request's response (Server-Sent Events), buffering at most
    /// `limit` bytes not yet sent; nil outside a server (a request made in a test).
    public func openStream(limit: Int) -> HTTPStream? {
        guard let raw, let handle = runner_http_stream_open(raw, limit) else { return nil }
        return HTTPStream(handle)
    }

    /// A header (case-insensitive name).
    public func header(_ name: String) -> String? { lookupHeader(name) }
    /// A query parameter (`?limit=5`).
    public func query(_ name: String) -> String? { lookupQuery(name) }
}
