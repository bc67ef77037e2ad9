import Foundation
import RunnerTestSupport
import Testing
@testable import RunnerServer

/// Requests whose framing a proxy in front could read otherwise than this server (request
/// smuggling) and paths that a NUL would cut: refused with the API's error shape, before any
/// handler runs, and the connection closed.
@Suite struct HTTPFramingTests {
    /// The status, the JSON error's code, whether the server closed the connection, and the whole
    /// answer.
    typealias Answer = (status: Int, code: String?, closed: Bool, text: String)

    static func exchange(_ request: String, port: UInt16) throws -> Answer {
        let connection = try #require(RawConnection(port: port))
        connection.send(request)
        var (text, closed) = connection.readResponse(for: 5)
        // A refused request's connection closes right after its answer.
        if !closed && !text.hasPrefix("HTTP/1.1 2") { closed = connection.read(for: 2).closed }
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        return (status, json?["code"] as? String, closed, text)
    }

    static let post = "POST /runs HTTP/1.1\r\nHost: x\r\n"

    /// `body`, off the pool, given `exchange` on a server of its own (stopped after).
    static func withServer(
        _ body: @escaping @Sendable (_ exchange: (String) throws -> Answer) throws -> Void
    ) async throws {
        try await offPool {
            let server = try HTTPServerTests.server()
            defer { server.stop() }
            try body { try exchange($0, port: server.port) }
        }
    }

    @Test func conflictingContentLengthsAreRefusedAndTheConnectionClosed() async throws {
        try await Self.withServer { exchange in
            let answer = try exchange(Self.post + "Content-Length: 5\r\nContent-Length: 50\r\n\r\nhello")
            #expect(answer.status == 400)
            #expect(answer.code == "RUN6011")
            #expect(answer.closed, "the connection is closed: what follows cannot be framed")
            #expect(!answer.text.contains("body=hello"), "no handler saw the request")
        }
    }

    @Test func repeatedEqualContentLengthsAreOneLength() async throws {
        try await Self.withServer { exchange in
            let answer = try exchange(Self.post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello")
            #expect(answer.status == 200)
            #expect(answer.text.contains("body=hello"))
        }
    }

    @Test func contentLengthWithTransferEncodingIsRefusedAndTheConnectionClosed() async throws {
        try await Self.withServer { exchange in
            let chunked = "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
            let answer = try exchange(Self.post + chunked)
            #expect(answer.status == 400)
            #expect(answer.code == "RUN6011")
            #expect(answer.closed)
            #expect(!answer.text.contains("body=hel"))
        }
    }

    @Test func chunkedIsTheOnlyTransferCodingAccepted() async throws {
        try await Self.withServer { exchange in
            let chunked = try exchange(Self.post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
            #expect(chunked.status == 200)
            #expect(chunked.text.contains("body=hello"))
            for coding in ["gzip", "gzip, chunked", "chunked, chunked", "identity"] {
                let answer = try exchange(Self.post + "Transfer-Encoding: \(coding)\r\n\r\nhello")
                #expect(answer.status == 501, "Transfer-Encoding: \(coding)")
                #expect(answer.code == "RUN6012")
                #expect(answer.closed)
            }
            let chunkedTwice = "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            let twice = try exchange(Self.post + chunkedTwice)
            #expect(twice.status == 501)
        }
    }

    @Test func aNulInThePathIsRefused() async throws {
        try await Self.withServer { exchange in
            for target in ["/api/v1/runs/ID%00x/cancel", "/api/v1/runs/ID%00", "/api/v1/runs/ID\u{0}x/cancel", "/a?q=1\u{0}x"] {
                let answer = try exchange("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(answer.status == 400, "\(target.debugDescription)")
                #expect(answer.code == "RUN6013")
                #expect(answer.closed)
                #expect(!answer.text.contains("GET /api/v1/runs/ID "), "no handler saw the cut path")
            }
            let escaped = try exchange("GET /a%2500b HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(escaped.status == 200, "an escaped percent sign followed by 00 is no NUL")
            #expect(escaped.text.contains("GET /a%00b q=-"))
        }
    }

    /// A query value is not refused at the edge (each route says what it does with a value it
    /// cannot use) but never cut short either: the NUL arrives as U+FFFD.
    @Test func aNulInAQueryValueArrivesAsAReplacementCharacter() async throws {
        try await Self.withServer { exchange in
            let answer = try exchange("GET /a?q=1%00x%41+b%zz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(answer.status == 200)
            #expect(answer.text.contains("GET /a q=1\u{FFFD}xA b%zz h="), "decoded as before, the NUL replaced")
        }
    }
}
