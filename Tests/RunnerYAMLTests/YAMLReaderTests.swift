import Testing
import RunnerTestSupport
import RunnerCore
@testable import RunnerYAML

@Suite struct YAMLReaderTests {
    func read(_ text: String, limits: YAMLLimits = .standard) -> YAMLReader.Output {
        YAMLReader.read(Array(text.utf8), file: "t.yaml", limits: limits)
    }

    func mapping(_ node: YAMLNode?) -> [YAMLPair] {
        if case .mapping(let pairs)? = node?.content { return pairs }
        return []
    }

    @Test func nodesKeepLineAndColumn() throws {
        let out = read("version: 1\nsteps:\n  - name: a\n    run: 'echo  a'\n")
        let root = try #require(out.root)
        let steps = mapping(root)[1]
        #expect(steps.key.location == SourceLocation(file: "t.yaml", line: 2, column: 1))
        guard case .sequence(let items) = steps.value.content else { throw TestFailure("steps") }
        let run = mapping(items[0])[1]
        #expect(run.value.location == SourceLocation(file: "t.yaml", line: 4, column: 10))
        #expect(run.value.sourceText?.location.column == 11)
        #expect(run.value.sourceText?.isColumnExact == true)
    }

    @Test func blockAndFlowAndMultilineScalars() throws {
        let out = read("""
        a: |
          line one
          line two
        b: >
          folded
          text
        c: {x: [1, "two", 'three']}
        d: "esc\\taped"
        """)
        let pairs = mapping(out.root)
        #expect(pairs[0].value.scalar == "line one\nline two\n")
        #expect(pairs[1].value.scalar == "folded text\n")
        #expect(pairs[3].value.scalar == "esc\taped")
        #expect(pairs[3].value.sourceText?.isColumnExact == false)
        guard case .mapping(let inner) = pairs[2].value.content, case .sequence(let items) = inner[0].value.content else {
            throw TestFailure("flow")
        }
        #expect(items.map(\.resolvedKind) == [.int, .string, .string])
    }

    @Test func coreSchemaResolution() {
        let cases: [(String, YAMLNode.ResolvedKind)] = [
            ("yes", .string), ("no", .string), ("on", .string), ("true", .bool), ("False", .bool), ("~", .null),
            ("null", .null), ("", .null), ("12", .int), ("-3", .int), ("0x1F", .int), ("0o17", .int), ("1.5", .float),
            ("1e3", .float), (".inf", .float), (".5", .float), ("1.2.3", .string), ("0800", .int), ("v1", .string), ("-", .string),
        ]
        for (text, kind) in cases {
            #expect(CoreSchema.resolve(text) == kind, "'\(text)'")
        }
    }

    @Test func anchorsAliasesAndMergeKeys() throws {
        let out = read("""
        base: &base {a: 1, b: 2}
        other: &other {c: 3}
        m:
          <<: [*base, *other]
          b: 20
        n: *base
        """)
        #expect(out.diagnostics.isEmpty)
        let m = mapping(mapping(out.root)[2].value)
        #expect(m.map(\.name) == ["b", "a", "c"])
        #expect(m[0].value.scalar == "20")
        #expect(mapping(mapping(out.root)[3].value).map(\.name) == ["a", "b"])
    }

    @Test func duplicateKeysAreReportedWithTheFirst() {
        let out = read("a: 1\nb: 2\na: 3\n")
        #expect(out.diagnostics.map(\.code) == [.duplicateKey])
        #expect(out.diagnostics.first?.location?.line == 3)
        #expect(out.diagnostics.first?.notes.first?.location?.line == 1)
    }

    @Test func quotedMergeKeyIsAnOrdinaryKey() {
        let out = read("a: &a {x: 1}\nb: {'<<': *a}\n")
        #expect(out.diagnostics.isEmpty)
        #expect(mapping(mapping(out.root)[1].value).map(\.name) == ["<<"])
    }

    @Test(arguments: [
        ("", DiagnosticCode.emptyDocument), ("# only a comment\n", .emptyDocument), ("~\n", .emptyDocument),
        ("a: 1\n---\nb: 2\n", .multipleDocuments), ("a: *nope\n", .undefinedAlias), ("a: &x [*x]\n", .undefinedAlias),
        ("a: !custom 1\n", .unsupportedTag), ("a: !!binary aGk=\n", .unsupportedTag), ("a: !!map [1]\n", .unsupportedTag),
        ("? [a]\n: 1\n", .complexKey), ("a: &s x\nb: {<<: *s}\n", .invalidMergeKey), ("a: [1, 2\n", .yamlSyntax),
        ("a:\n\tb: 1\n", .yamlSyntax), ("a: \"\\q\"\n", .yamlSyntax), ("a: b: c\n", .yamlSyntax),
    ])
    func rejects(_ text: String, _ code: DiagnosticCode) {
        let out = read(text)
        #expect(out.root == nil || !out.diagnostics.isEmpty)
        #expect(out.diagnostics.map(\.code).contains(code), "\(text.debugDescription): \(out.diagnostics.map(\.message))")
        #expect(out.diagnostics.allSatisfy { $0.location != nil })
    }

    @Test func standardTagsApply() {
        let out = read("a: !!str 5\nb: !!int \"7\"\n")
        let pairs = mapping(out.root)
        #expect(pairs[0].value.resolvedKind == .string)
        #expect(pairs[1].value.resolvedKind == .int)
    }

    @Test func tabIndentationGetsAHint() {
        let out = read("a:\n\tb: 1\n")
        #expect(out.diagnostics.first?.hint?.contains("tab") == true)
        #expect(out.diagnostics.first?.location?.line == 2)
    }

    @Test func depthIsBounded() {
        let deep = "a: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n"
        let out = read(deep)
        #expect(out.diagnostics.map(\.code) == [.nestingTooDeep])
    }

    @Test func aliasExpansionIsBounded() {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1..<12 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        let out = read(lines.joined(separator: "\n") + "\n")
        #expect(out.diagnostics.map(\.code) == [.aliasLimit])
        var small = YAMLLimits.standard
        small.maxAliasExpansion = 5
        #expect(read("a: &a [1, 2, 3]\nb: *a\nc: *a\n", limits: small).diagnostics.map(\.code) == [.aliasLimit])
    }

    @Test func scalarLengthIsBounded() {
        var limits = YAMLLimits.standard
        limits.maxScalarBytes = 16
        let out = read("a: \(String(repeating: "x", count: 17))\n", limits: limits)
        #expect(out.diagnostics.map(\.code) == [.scalarTooLong])
    }

    @Test(arguments: [
        [UInt8]("a: caf".utf8) + [0xE9] + [UInt8]("\n".utf8),
        [UInt8]("a: ".utf8) + [0xC0, 0xAF] + [UInt8]("\n".utf8),
        [UInt8]("a: ".utf8) + [0xED, 0xA0, 0x80] + [UInt8]("\n".utf8),
        [UInt8]("a: ".utf8) + [0xE3, 0x81],
        [0xFF, 0xFE, 0x61, 0x00],
        [UInt8]("a: ".utf8) + [0x80],
    ])
    func invalidUTF8IsLocated(_ bytes: [UInt8]) {
        let out = YAMLReader.read(bytes, file: "t.yaml")
        #expect(out.diagnostics.map(\.code) == [.invalidEncoding])
        #expect(out.diagnostics.first?.location?.line == 1)
    }

    /// The first invalid byte is found where the standard library's UTF-8 parser stops, in
    /// texts of mostly ASCII (read eight bytes at a time) with valid and broken sequences at
    /// every alignment.
    @Test func firstInvalidUTF8AgreesWithTheStandardLibrary() {
        func expected(_ bytes: [UInt8]) -> Int? {
            var parser = Unicode.UTF8.ForwardParser()
            var iterator = bytes.makeIterator()
            var offset = 0
            while true {
                switch parser.parseScalar(from: &iterator) {
                case .valid(let encoded): offset += encoded.count
                case .emptyInput: return nil
                case .error: return offset
                }
            }
        }
        let pieces: [[UInt8]] = [Array("a".utf8), Array("steps:\n".utf8), Array("é".utf8), Array("日".utf8), Array("😀".utf8),
                                 [0xE9], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE3, 0x81], [0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF]]
        var state: UInt64 = 20261202
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        for _ in 0..<2_000 {
            var bytes: [UInt8] = []
            for _ in 0..<next(40) {
                // Mostly ASCII runs; now and then another piece, valid or not.
                bytes += next(6) == 0 ? pieces[3 + next(pieces.count - 3)] : pieces[next(3)]
            }
            #expect(TextCheck.firstInvalidUTF8(bytes) == expected(bytes), "\(bytes)")
        }
    }

    @Test func byteOrderMarkAndCRLFAreAccepted() {
        let out = YAMLReader.read([0xEF, 0xBB, 0xBF] + Array("a: 1\r\nb: x\r\n".utf8), file: "t.yaml")
        #expect(out.diagnostics.isEmpty)
        #expect(mapping(out.root).map(\.name) == ["a", "b"])
        #expect(mapping(out.root)[1].value.location == SourceLocation(file: "t.yaml", line: 2, column: 4))
    }

    @Test func validMultibyteTextIsAccepted() {
        let out = read("description: ドキュメント公開 🚀\n")
        #expect(out.diagnostics.isEmpty)
        #expect(mapping(out.root)[0].value.scalar == "ドキュメント公開 🚀")
    }

    @Test func controlCharactersAreRejectedWithLocation() {
        let out = YAMLReader.read([UInt8]("a: 1\nb: x".utf8) + [0x01] + [UInt8]("\n".utf8), file: "t.yaml")
        #expect(out.diagnostics.first?.code == .yamlSyntax)
        #expect(out.diagnostics.first?.location?.line == 2)
    }
}

