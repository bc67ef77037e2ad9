import Foundation
import Testing
import RunnerCore

/// Issue 16, item 5: secrets are masked whole however the output is cut, on bytes.
@Suite struct SecretMaskerTests {
    func stream(_ masker: SecretMasker, _ pieces: [[UInt8]]) -> [UInt8] {
        let stream = SecretMasker.Stream(masker)
        var out: [UInt8] = []
        for piece in pieces { out += piece.withUnsafeBytes { stream.feed($0) } }
        return out + stream.finish()
    }

    @Test func everyOccurrenceIsMasked() {
        let masker = SecretMasker(["s3cr3t", "tok"])
        #expect(masker.mask("a s3cr3t b tok c s3cr3ts3cr3t") == "a *** b *** c ******")
        #expect(masker.mask("nothing here") == "nothing here")
        #expect(SecretMasker([]).mask("s3cr3t") == "s3cr3t")
        #expect(SecretMasker([""]).isEmpty)
    }

    @Test func theLongerOfTwoSecretsAtOneStartWins() {
        #expect(SecretMasker(["abc", "abcdef"]).mask("xabcdefx abcx") == "x***x ***x")
        #expect(stream(SecretMasker(["abc", "abcdef"]), [Array("xabc".utf8), Array("defx".utf8)]) == Array("x***x".utf8),
                "the shorter one is not masked before the next piece shows the longer one")
    }

    @Test func aSecretCutAcrossPiecesIsMasked() {
        let secret = "0123456789abcdef"
        let masker = SecretMasker([secret])
        // The case: one write of 65,530 bytes plus the secret, read 64 KiB at a time.
        let text = Array(repeating: UInt8(ascii: "x"), count: 65_530) + Array(secret.utf8) + [10]
        let pieces = [Array(text[..<65_536]), Array(text[65_536...])]
        let out = stream(masker, pieces)
        #expect(out == Array(repeating: UInt8(ascii: "x"), count: 65_530) + Array("***\n".utf8))
        // Written in two halves with a pause between them.
        #expect(stream(masker, [Array("T=0123".utf8), Array("456789abcdef\n".utf8)]) == Array("T=***\n".utf8))
    }

    @Test func bytesThatAreNotUTF8PassUnchanged() {
        let masker = SecretMasker(["pw"])
        let bytes: [UInt8] = [0xFF, 0xFE, 0x70, 0x77, 0xC3, 0x28, 0x80]
        #expect(masker.mask(bytes) == [0xFF, 0xFE, 0x2A, 0x2A, 0x2A, 0xC3, 0x28, 0x80])
        #expect(stream(masker, [[0xFF, 0x70], [0x77, 0x80]]) == [0xFF, 0x2A, 0x2A, 0x2A, 0x80])
    }

    @Test func aPrefixLeftAtTheEndIsReleasedAsItIs() {
        let masker = SecretMasker(["secret"])
        #expect(stream(masker, [Array("a sec".utf8)]) == Array("a sec".utf8))
        #expect(stream(masker, [Array("a sec".utf8), Array("ond".utf8)]) == Array("a second".utf8))
    }

    /// However the text is cut, the stream gives what masking it whole gives, and no secret
    /// is left in it (seeded, 3,000 texts).
    @Test func streamingAgreesWithMaskingWholeAtEveryCut() {
        var random = SplitMix64(seed: 0x5EC2E7)
        let alphabet = Array("ab01-\n".utf8)
        for _ in 0..<3_000 {
            let secrets = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                String(decoding: (0..<Int.random(in: 1...6, using: &random)).map { _ in alphabet.randomElement(using: &random)! }, as: UTF8.self)
            }
            let masker = SecretMasker(secrets)
            let text = (0..<Int.random(in: 0...60, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            var pieces: [[UInt8]] = []
            var rest = text[...]
            while !rest.isEmpty {
                let n = Int.random(in: 1...max(1, rest.count), using: &random)
                pieces.append(Array(rest.prefix(n)))
                rest = rest.dropFirst(n)
            }
            let whole = masker.mask(text)
            let streamed = stream(masker, pieces)
            #expect(streamed == whole, "secrets \(secrets), text \(String(decoding: text, as: UTF8.self)), pieces \(pieces.count)")
            if streamed != whole { return }
        }
    }

    @Test func noSecretSurvivesMasking() {
        var random = SplitMix64(seed: 42)
        let alphabet = Array("xy".utf8)
        for _ in 0..<2_000 {
            let secret = String(decoding: (0..<Int.random(in: 2...5, using: &random)).map { _ in alphabet.randomElement(using: &random)! }, as: UTF8.self)
            let text = (0..<40).map { _ in alphabet.randomElement(using: &random)! }
            let masked = String(decoding: SecretMasker([secret]).mask(text), as: UTF8.self)
            #expect(!masked.contains(secret), "\(secret) in \(masked)")
        }
    }
}
