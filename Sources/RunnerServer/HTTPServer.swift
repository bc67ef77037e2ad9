#if canImport(Glibc)
import Glibc
#endif
import CHTTPDShim
import FoundationEssentials
import RunnerCore

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
