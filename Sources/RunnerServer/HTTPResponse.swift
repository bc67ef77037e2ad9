import FoundationEssentials

/// What a handler answers: status, body (or a stream), Content-Type and header fields.
public struct HTTPResponse: Sendable {
    public typealias Header = (name: String, value: String)

    public var status: Int
    public var body: [UInt8]
    public var contentType: String
    /// Header fields sent after Content-Type, in order (a name may come more than once).
    public var headers: [Header]
    /// Set: the body is streamed from it, `body` is ignored.
    public var stream: HTTPStream?

    public init(status: Int, body: [UInt8], contentType: String = "application/json", headers: [Header] = []) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.headers = headers
    }

    /// With one header field, or none.
    public init(status: Int, body: [UInt8], contentType: String = "application/json", header: Header?) {
        self.init(status: status, body: body, contentType: contentType, headers: header.map { [$0] } ?? [])
    }

    /// This response with one more header field.
    public func with(header: Header) -> HTTPResponse {
        var copy = self
        copy.headers.append(header)
        return copy
    }

    /// The first value of a header field (case-insensitive name); Content-Type included.
    public func header(_ name: String) -> String? {
        if name.lowercased() == "content-type" { return contentType }
        return headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
