import Foundation
import RunnerTestSupport
import Testing
@testable import RunnerServer

/// Clients that hold connections without finishing a request (slowloris): a deadline for a
/// request's headers, whole, and a limit on the connections of one client.
@Suite struct HTTPSlowClientTests {
    static func server(headerTimeout: Duration = .seconds(10), perClient: UInt32 = 128) throws -> HTTPServer {
        try HTTPServerTests.server { options in
            options.headerTimeout = headerTimeout
            options.perClientConnectionLimit = perClient
        }
    }

    @Test func headersTrickledByteByByteMissTheirDeadline() async throws {
        try await offPool {
            let server = try Self.server(headerTimeout: .seconds(1))
            defer { server.stop() }
            let connection = try #require(RawConnection(port: server.port))
            connection.send("GET /slow HTTP/1.1\r\nHost: x\r\n")
            // A byte every 0.2 s resets the 30 s idle timeout each time; the deadline holds.
            var answer = "", closed = false
            for _ in 0..<50 where !closed {
                connection.send("X")
                let read = connection.read(for: 0.2)
                answer += read.text
                closed = read.closed
            }
            #expect(closed, "the connection is closed at the deadline, well before the idle timeout")
            #expect(answer.hasPrefix("HTTP/1.1 408"))
            #expect(answer.contains("\"RUN6014\""))
        }
    }

    @Test func aSilentConnectionIsClosedAtTheDeadlineWithoutAnAnswer() async throws {
        try await offPool {
            let server = try Self.server(headerTimeout: .seconds(1))
            defer { server.stop() }
            let connection = try #require(RawConnection(port: server.port))
            let read = connection.read(for: 10)
            #expect(read.closed)
            #expect(read.text.isEmpty, "no request was started: nothing to answer")
        }
    }

    @Test func theDeadlineStartsAgainForEachRequestOfAConnection() async throws {
        try await offPool {
            let server = try Self.server(headerTimeout: .seconds(3))
            defer { server.stop() }
            let connection = try #require(RawConnection(port: server.port))
            // Three requests 1.5 s apart: longer than the deadline in all, within it each.
            for n in 0..<3 {
                if n > 0 { Thread.sleep(forTimeInterval: 1.5) }
                connection.send("GET /n/\(n) HTTP/1.1\r\nHost: x\r\n\r\n")
                let read = connection.readResponse(for: 5)
                #expect(read.text.hasPrefix("HTTP/1.1 200"), "request \(n)")
                #expect(read.text.contains("GET /n/\(n) "))
            }
        }
    }

    @Test func aClientPastItsConnectionLimitIsRefusedWhileOthersAreServed() async throws {
        try await offPool {
            let server = try Self.server(perClient: 4)
            defer { server.stop() }
            let held = (0..<4).compactMap { _ in RawConnection(port: server.port, from: "127.0.0.2") }
            #expect(held.count == 4)
            for connection in held { connection.send("GET /held HTTP/1.1\r\n") }
            let fifth = try #require(RawConnection(port: server.port, from: "127.0.0.2"))
            #expect(fifth.read(for: 5).closed, "a fifth connection from 127.0.0.2 is closed at once")
            #expect(held.allSatisfy { $0.isOpen })
            #expect(try HTTPServerTests.fetch(server.port, "/other").status == 200, "127.0.0.1 is another client")
        }
    }

    @Test func theLimitsAreOptionsWithDefaults() {
        let options = HTTPServer.Options()
        #expect(options.perClientConnectionLimit == 128)
        #expect(options.headerTimeout == .seconds(10))
        #expect(options.connectionTimeout == 30)
    }
}
