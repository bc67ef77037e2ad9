import Foundation
import RunnerTestSupport
import Testing
@testable import RunnerServer

/// A response's header fields, however many, each sent as given (through the C shim's list).
@Suite struct HTTPHeaderListTests {
    @Test func everyHeaderFieldIsSentInOrder() async throws {
        try await offPool {
            let server = HTTPServer { _ in
                HTTPResponse(status: 503, body: Array("{}".utf8),
                             headers: [("Retry-After", "1"), ("X-Runner-Active-Run", "r1")])
                    .with(header: ("Link", "</a>; rel=\"a\""))
                    .with(header: ("Link", "</b>; rel=\"b\""))
            }
            try server.start(address: "127.0.0.1", port: 0)
            defer { server.stop() }
            let client = try #require(RawConnection(port: server.port))
            client.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = client.readResponse(for: 10).text.components(separatedBy: "\r\n\r\n")[0]
            let fields = head.split(separator: "\r\n").dropFirst().map(String.init)
            #expect(head.hasPrefix("HTTP/1.1 503"))
            #expect(fields.contains("Content-Type: application/json"))
            #expect(fields.contains("Retry-After: 1") && fields.contains("X-Runner-Active-Run: r1"))
            let links = fields.filter { $0.hasPrefix("Link:") }
            #expect(links == ["Link: </a>; rel=\"a\"", "Link: </b>; rel=\"b\""],
                    "a repeated name is sent twice, in order")
        }
    }

    @Test func aResponseReadsItsHeaders() {
        let response = HTTPResponse(status: 401, body: [], header: ("WWW-Authenticate", "Bearer"))
            .with(header: ("Retry-After", "5"))
        #expect(response.headers.map(\.name) == ["WWW-Authenticate", "Retry-After"])
        #expect(response.header("www-authenticate") == "Bearer" && response.header("Retry-After") == "5")
        #expect(response.header("content-type") == "application/json" && response.header("Allow") == nil)
    }
}
