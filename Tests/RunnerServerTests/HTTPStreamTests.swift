import Foundation
import RunnerCore
import RunnerTestSupport
import Testing
@testable import RunnerServer

/// A streamed body whose client reads nothing: the server holds at most the stream's limit,
/// and drops the client at the idle timeout.
@Suite struct HTTPStreamTests {
    final class Opened: @unchecked Sendable {
        private let lock = Lock()
        private var opened: HTTPStream?
        var stream: HTTPStream? { lock.withLock { opened } }
        func set(_ stream: HTTPStream?) { lock.withLock { opened = stream } }
    }

    /// A server whose every request opens a stream of `limit` bytes, and a client of it that
    /// reads nothing.
    static func stalledStream(limit: Int, timeout: UInt32) throws -> (HTTPServer, RawConnection, HTTPStream) {
        let opened = Opened()
        let server = HTTPServer { request in
            let stream = request.openStream(limit: limit)
            opened.set(stream)
            var response = HTTPResponse(status: 200, body: [], contentType: "text/event-stream")
            response.stream = stream
            return response
        }
        var options = HTTPServer.Options()
        options.connectionTimeout = timeout
        try server.start(address: "127.0.0.1", port: 0, options: options)
        let client = try #require(RawConnection(port: server.port, receiveBuffer: 4096))
        client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        let deadline = Date().addingTimeInterval(10)
        while opened.stream == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        return (server, client, try #require(opened.stream))
    }

    /// Writes 16 KiB chunks until a write is refused (at most 256 MiB); the most ever pending.
    static func fill(_ stream: HTTPStream) -> (refused: Bool, mostPending: Int) {
        let chunk = String(repeating: "x", count: 16 << 10)
        var most = 0
        for _ in 0..<(16 << 10) {
            guard stream.write(chunk) else { return (true, most) }
            most = max(most, stream.pending ?? 0)
        }
        return (false, most)
    }

    @Test func aStreamHoldsAtMostItsLimit() async throws {
        try await offPool {
            let (server, client, stream) = try Self.stalledStream(limit: 256 << 10, timeout: 30)
            defer { server.stop() }
            let (refused, most) = Self.fill(stream)
            #expect(refused, "a write past the limit is refused")
            #expect(most <= 256 << 10)
            #expect(client.isOpen)
            stream.close()
        }
    }

    /// As the event stream's writer does: more whenever the buffer runs low. Once the
    /// system's socket buffers are full too, nothing is sent for the idle timeout.
    @Test func aClientThatReadsNothingIsDroppedAtTheIdleTimeout() async throws {
        try await offPool {
            let (server, client, stream) = try Self.stalledStream(limit: 256 << 10, timeout: 1)
            defer { server.stop() }
            let chunk = String(repeating: "x", count: 16 << 10)
            let deadline = Date().addingTimeInterval(20)
            while let pending = stream.pending, Date() < deadline {
                if pending < 128 << 10 { stream.write(chunk) } else { Thread.sleep(forTimeInterval: 0.01) }
            }
            #expect(stream.pending == nil, "the server let the stalled client go")
            #expect(client.read(for: 10).closed, "and closed its connection (after what it had sent)")
            stream.close()
        }
    }
}
