import Foundation
import RunnerCore
import RunnerCrypto
import RunnerTestSupport
import Testing
@testable import RunnerServer

@Suite struct AccessTokensTests {
    @Test func sha256KnownAnswersAndConstantTimeEquality() {
        #expect(Crypto.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Crypto.sha256Hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Crypto.constantTimeEqual(Array("same".utf8), Array("same".utf8)))
        #expect(!Crypto.constantTimeEqual(Array("same".utf8), Array("samf".utf8)))
        #expect(!Crypto.constantTimeEqual(Array("short".utf8), Array("longer".utf8)))
        #expect(Crypto.randomBytes(32).map { $0.count } == 32)
        #expect(Crypto.randomBytes(16) != Crypto.randomBytes(16))
    }

    @Test func tokensAreStoredAsHashesAndCheckedWholly() throws {
        let store = InMemoryRunStore()
        let made = try #require(AccessTokens.make(name: "ci", role: .operator))
        #expect(!made.record.hash.contains(made.token) && made.record.hash.count == 64)
        try store.createToken(made.record)
        let again = try #require(AccessTokens.make(name: "ci", role: .viewer))
        #expect(throws: TokenNameTaken.self) { try store.createToken(again.record) }
        #expect(try AccessTokens.authenticate("Bearer \(made.token)", store: store).get().name == "ci")
        #expect(try AccessTokens.authenticate("bearer  \(made.token)", store: store).get().role == .operator)
        let wrongSecret = String(made.token.dropLast()) + (made.token.hasSuffix("a") ? "b" : "a")
        #expect(AccessTokens.authenticate("Bearer \(wrongSecret)", store: store) == .failure(.unknown))
        #expect(AccessTokens.authenticate(nil, store: store) == .failure(.missing))
        #expect(AccessTokens.authenticate("Basic abc", store: store) == .failure(.malformed))
        try store.revokeToken(name: "ci", at: Date())
        #expect(AccessTokens.authenticate("Bearer \(made.token)", store: store) == .failure(.revoked))
        #expect(Role.viewer < .operator && Role.operator < .admin)
    }

    @Test func traceIDsComeFromTraceparentThenXRequestID() {
        #expect(AccessTokens.traceID(traceparent: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", requestID: "r1")
                == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(AccessTokens.traceID(traceparent: "garbage", requestID: "req-42") == "req-42")
        #expect(AccessTokens.traceID(traceparent: nil, requestID: "has space") == nil)
        #expect(AccessTokens.traceID(traceparent: nil, requestID: String(repeating: "x", count: 129)) == nil)
    }
}
