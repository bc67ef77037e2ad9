#if canImport(Glibc)
import Glibc
#endif
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

/// A response body written while it is sent: another thread writes, then closes.
public final class HTTPStream: @unchecked Sendable {
    private let handle: OpaquePointer
    private let lock = Lock()
    private var closed = false

    init(_ handle: OpaquePointer) { self.handle = handle }

    var pointer: UnsafeMutableRawPointer { UnsafeMutableRawPointer(handle) }

    /// False once the client is gone, or when `text` would take the stream past its limit
    /// (then close).
    @discardableResult
    public func write(_ text: String) -> Bool {
        lock.withLock {
            guard !closed else { return false }
            return text.utf8CString.withUnsafeBufferPointer {
                runner_http_stream_write(handle, $0.baseAddress, $0.count - 1)
            } == 1
        }
    }

    /// Bytes written and not sent yet; nil once the client is gone.
    public var pending: Int? {
        lock.withLock {
            guard !closed else { return nil }
            let pending = runner_http_stream_pending(handle)
            return pending < 0 ? nil : Int(pending)
        }
    }

    public func close() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            runner_http_stream_close(handle)
        }
    }
}

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

/// An HTTP server on libmicrohttpd: its own polling thread and a pool of worker threads call
/// `handler` once per complete request. Bodies are bounded; slow or stalled clients time out
/// without holding a worker, which only ever sees whole requests. Requests whose framing is
/// ambiguous or whose URL holds a NUL are answered here (`HTTPRefusal`), never by `handler`.
public final class HTTPServer: @unchecked Sendable {
    public struct Options: Sendable {
        public var threads: UInt32 = 4
        public var maxBody = 1 << 20
        /// Seconds a connection may be idle (every byte received or sent resets it).
        public var connectionTimeout: UInt32 = 30
        public var connectionLimit: UInt32 = 1000
        /// Connections one client (source address) may hold at once; more are closed as they
        /// come. 0: no limit (behind a proxy every client has the proxy's address).
        public var perClientConnectionLimit: UInt32 = 128
        /// How long a request's headers may take, whole, from the connection's opening or its
        /// previous response; also how long a kept-alive connection may wait for its next
        /// request. Unlike `connectionTimeout`, not reset by each byte. Zero: no deadline.
        public var headerTimeout: Duration = .seconds(10)
        public init() {}
    }

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    let handler: @Sendable (HTTPRequest) -> HTTPResponse
    private var daemon: UnsafeMutableRawPointer?
    /// The port listened on (the one the system chose when 0 was asked).
    public private(set) var port: UInt16 = 0

    public init(handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.handler = handler
    }

    public func start(address: String, port: UInt16, options: Options = Options()) throws {
        var bound: UInt16 = 0
        var error = [CChar](repeating: 0, count: 256)
        let context = Unmanaged.passUnretained(self).toOpaque()
        let timeoutMilliseconds = UInt32(clamping: DurationText.milliseconds(options.headerTimeout))
        let timeoutBody = HTTPRefusal.headersTimeout(options.headerTimeout).response.body
        let started: UnsafeMutableRawPointer? = address.withCString { address in
            timeoutBody.withUnsafeBufferPointer { body in
                body.withMemoryRebound(to: CChar.self) { body in
                    var c = runner_http_options(
                        address: address, port: port, threads: options.threads, max_body: options.maxBody,
                        connection_timeout_seconds: options.connectionTimeout,
                        connection_limit: options.connectionLimit,
                        per_client_connection_limit: options.perClientConnectionLimit,
                        header_timeout_ms: timeoutMilliseconds,
                        header_timeout_body: body.baseAddress, header_timeout_body_length: body.count)
                    return runner_http_start(&c, HTTPServer.callback, context, &bound, &error, error.count)
                }
            }
        }
        guard let daemon = started else {
            let message = error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            throw StartError(description: String(decoding: message, as: UTF8.self))
        }
        self.daemon = daemon
        self.port = bound
    }

    /// Stops accepting, lets requests in flight finish.
    public func stop() {
        runner_http_stop(daemon)
        daemon = nil
    }

    deinit { stop() }

    /// The C callback: a static member of a non-isolated type (a closure written in
    /// `main.swift` would be main-actor isolated and crash on libmicrohttpd's threads).
    static let callback: runner_http_handler = { context, request, response in
        guard let context, let request, let response else { return }
        let server = Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue()
        let incoming = HTTPRequest(request)
        let answer = incoming.refusal?.response ?? server.handler(incoming)
        response.pointee.status = UInt32(answer.status)
        response.pointee.body = copy(answer.body)
        response.pointee.body_length = answer.body.count
        if let stream = answer.stream { response.pointee.stream = stream.pointer }
        response.pointee.headers = copyHeaders(of: answer)
        response.pointee.header_count = response.pointee.headers == nil ? 0 : 1 + answer.headers.count
    }

    /// Content-Type and the response's header fields as the shim takes them: one malloc'd
    /// block, the array of fields and then the NUL-terminated strings they point to (one
    /// allocation, one `free`).
    static func copyHeaders(of answer: HTTPResponse) -> UnsafeMutablePointer<runner_http_header>? {
        let count = 1 + answer.headers.count
        let table = MemoryLayout<runner_http_header>.stride * count
        let size = { (name: String, value: String) in name.utf8.count + value.utf8.count + 2 }
        let text = answer.headers.reduce(size("Content-Type", answer.contentType)) { $0 + size($1.name, $1.value) }
        guard let block = malloc(table + text) else { return nil }
        let fields = block.bindMemory(to: runner_http_header.self, capacity: count)
        var offset = table
        func place(_ string: String) -> UnsafePointer<CChar> {
            let start = block + offset
            var string = string
            let length = string.withUTF8 { utf8 in
                if let base = utf8.baseAddress { start.copyMemory(from: base, byteCount: utf8.count) }
                return utf8.count
            }
            start.storeBytes(of: 0, toByteOffset: length, as: UInt8.self)
            offset += length + 1
            return UnsafePointer(start.assumingMemoryBound(to: CChar.self))
        }
        fields[0] = runner_http_header(name: place("Content-Type"), value: place(answer.contentType))
        for (index, header) in answer.headers.enumerated() {
            fields[1 + index] = runner_http_header(name: place(header.name), value: place(header.value))
        }
        return fields
    }

    static func copy(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar>? {
        guard !bytes.isEmpty, let memory = malloc(bytes.count) else { return nil }
        bytes.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return memory.assumingMemoryBound(to: CChar.self)
    }
}
