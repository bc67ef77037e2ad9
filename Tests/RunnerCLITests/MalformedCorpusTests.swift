import Foundation
import Testing
import RunnerTestSupport
import RunnerCore
@testable import RunnerYAML

/// Hostile and broken input, run through the built binary: every case must exit 2 with a
/// located diagnostic (`--json` gives file and line), and nothing may crash, hang or overflow
/// the stack. Truncations may leave a valid prefix: those must exit 0 or 2, never crash.
@Suite(.serialized) struct MalformedCorpusTests {
    struct Case {
        var name: String
        var bytes: [UInt8]
        var mustBeInvalid: Bool
    }

    static let directory: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runner-corpus-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }()

    static var seedFiles: [URL] {
        let valid = Paths.fixtures.appendingPathComponent("pipelines/valid")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: valid.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
        return names.map { valid.appendingPathComponent($0) }
    }

    /// A deterministic byte source for the garbage cases.
    struct Noise {
        var state: UInt64
        mutating func next() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in next() } }
    }

    static func structuralCases() -> [Case] {
        var cases: [Case] = []
        func add(_ name: String, _ text: String) { cases.append(Case(name: name, bytes: Array(text.utf8), mustBeInvalid: true)) }
        let head = "version: 1\nname: hostile\nsteps:\n  - name: a\n    run: echo a\n"
        add("deep-flow-sequences", head + "    env: {X: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}\n")
        add("deep-flow-mappings", head + "x: " + String(repeating: "{a: ", count: 10_000) + "1" + String(repeating: "}", count: 10_000) + "\n")
        add("deep-block-mappings", "version: 1\nname: deep\n" + (0..<2_000).map { String(repeating: " ", count: $0 * 2) + "k\($0):" }.joined(separator: "\n") + " 1\n")
        add("deep-block-sequences", "version: 1\nname: deep\nsteps:\n" + (0..<3_000).map { String(repeating: " ", count: $0 * 2) + "-" }.joined(separator: "\n") + " x\n")
        add("unclosed-10000", "steps: " + String(repeating: "[", count: 10_000) + "\n")
        var bomb = ["version: 1", "name: bomb", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for i in 1..<10 { bomb.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        add("billion-laughs", bomb.joined(separator: "\n") + "\nsteps: [{name: a, run: echo}]\n")
        var merges = ["version: 1", "name: merges", "m0: &m0 {k0: 0}"]
        for i in 1..<40 { merges.append("m\(i): &m\(i) {<<: [*m\(i - 1), *m\(i - 1)], k\(i): \(i)}") }
        add("merge-key-bomb", merges.joined(separator: "\n") + "\nsteps: [{name: a, run: echo}]\n")
        add("alias-to-self", "a: &a [*a]\n")
        add("ten-megabyte-scalar", "version: 1\nname: big\ndescription: \"" + String(repeating: "x", count: 10 << 20) + "\"\nsteps: [{name: a, run: echo}]\n")
        add("ten-megabyte-plain-run", "version: 1\nname: big\nsteps:\n  - name: a\n    run: " + String(repeating: "y", count: 10 << 20) + "\n")
        add("seventeen-megabyte-file", "version: 1\nname: big\nsteps: [{name: a, run: echo}]\n" + String(repeating: "# padding\n", count: (17 << 20) / 10))
        add("many-documents", String(repeating: "---\na: 1\n", count: 1000))
        add("only-document-markers", "---\n...\n---\n...\n")
        add("null-root", "~\n")
        add("scalar-root", "just a string\n")
        add("tabs-everywhere", "version:\t1\nname:\tx\nsteps:\n\t-\tname: a\n")
        add("nul-byte", head.replacingOccurrences(of: "echo a", with: "echo \u{0}a"))
        add("bom-then-garbage", "\u{FEFF}\u{FEFF}version: 1\n")
        add("huge-key-count", "version: 1\nname: keys\n" + (0..<50_000).map { "k\($0): 1" }.joined(separator: "\n") + "\n")
        add("expression-nesting", head.replacingOccurrences(of: "run: echo a", with: "run: echo a\n    if: \"" + String(repeating: "(", count: 5_000) + "true" + String(repeating: ")", count: 5_000) + "\""))
        add("expression-bangs", head.replacingOccurrences(of: "run: echo a", with: "run: echo a\n    if: \"" + String(repeating: "!", count: 100_000) + "true\""))
        add("needs-self-chain", "version: 1\nname: chain\nsteps:\n" + (0..<5_000).map { "  - {name: s\($0), run: x, needs: [s\(($0 + 1) % 5_000)]}" }.joined(separator: "\n") + "\n")
        return cases
    }

    static func encodingCases() -> [Case] {
        let text = Array("version: 1\nname: enc\nsteps: [{name: a, run: echo}]\n".utf8)
        let bad: [(String, [UInt8])] = [
            ("latin1", [0xE9]), ("overlong-slash", [0xC0, 0xAF]), ("overlong-3", [0xE0, 0x80, 0xAF]), ("surrogate", [0xED, 0xA0, 0x80]),
            ("lone-continuation", [0x80]), ("above-max", [0xF4, 0x90, 0x80, 0x80]), ("ff", [0xFF]), ("truncated", [0xE3, 0x81]),
        ]
        var cases = bad.map { Case(name: "utf8-\($0.0)", bytes: Array(text.prefix(20)) + $0.1 + Array(text.dropFirst(20)), mustBeInvalid: true) }
        cases.append(Case(name: "utf8-truncated-at-end", bytes: text + [0xE3, 0x81], mustBeInvalid: true))
        cases.append(Case(name: "utf16le", bytes: [0xFF, 0xFE] + text.flatMap { [$0, 0] }, mustBeInvalid: true))
        cases.append(Case(name: "utf16be", bytes: [0xFE, 0xFF] + text.flatMap { [0, $0] }, mustBeInvalid: true))
        return cases
    }

    static func garbageCases() -> [Case] {
        var noise = Noise(state: 42)
        var cases = [4 << 10, 64 << 10, 1 << 20].map { Case(name: "garbage-\($0)", bytes: noise.bytes($0), mustBeInvalid: true) }
        let printable = (0..<(32 << 10)).map { _ in UInt8(0x20 + noise.next() % 95) } + [0x0A]
        cases.append(Case(name: "printable-noise", bytes: printable, mustBeInvalid: true))
        let yamlish = (0..<(32 << 10)).map { _ in Array("{}[]:-,&*!|>'\"%@` \n\tab#?".utf8)[Int(noise.next()) % 24] }
        cases.append(Case(name: "yaml-punctuation-noise", bytes: yamlish, mustBeInvalid: true))
        return cases
    }

    /// Every file of the valid fixtures cut at many points, and with its indentation in tabs.
    static func truncationCases() -> [Case] {
        var cases: [Case] = []
        for url in seedFiles {
            guard let data = try? Data(contentsOf: url) else { continue }
            let bytes = [UInt8](data), base = url.deletingPathExtension().lastPathComponent
            for cut in stride(from: 7, to: bytes.count, by: max(7, bytes.count / 23)) {
                cases.append(Case(name: "\(base)-cut-\(cut)", bytes: Array(bytes.prefix(cut)), mustBeInvalid: false))
            }
            let tabbed = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                let indent = line.prefix { $0 == " " }.count
                return indent == 0 ? String(line) : String(repeating: "\t", count: indent / 2) + line.dropFirst(indent)
            }.joined(separator: "\n")
            if tabbed.utf8.count != bytes.count { cases.append(Case(name: "\(base)-tabs", bytes: Array(tabbed.utf8), mustBeInvalid: true)) }
        }
        return cases
    }

    static func write(_ c: Case) -> URL {
        let url = directory.appendingPathComponent(c.name + ".yaml")
        _ = FileManager.default.createFile(atPath: url.path, contents: Data(c.bytes))
        return url
    }

    struct Verdict: Decodable {
        struct File: Decodable {
            struct D: Decodable { var code: String; var file: String?; var line: Int?; var severity: String }
            var valid: Bool
            var diagnostics: [D]
        }
        var files: [File]
    }

    /// Runs validate; returns a failure description or nil.
    static func check(_ c: Case) -> String? {
        let url = write(c)
        defer { try? FileManager.default.removeItem(at: url) }
        let out = BinaryRunner.run(["validate", "--json", url.path], timeout: 20)
        if out.crashed { return "\(c.name): crashed (signal) \(out.stderr.prefix(300))" }
        if out.timedOut { return "\(c.name): did not finish in 20 s" }
        guard out.status == 2 || (!c.mustBeInvalid && out.status == 0) else {
            return "\(c.name): exit \(out.status), expected 2\(c.mustBeInvalid ? "" : " or 0") \(out.stderr.prefix(300))"
        }
        guard let verdict = try? JSONDecoder().decode(Verdict.self, from: Data(out.stdout.utf8)), let file = verdict.files.first else {
            return "\(c.name): --json output did not parse: \(out.stdout.prefix(300))"
        }
        if out.status == 2 {
            let errors = file.diagnostics.filter { $0.severity == "error" }
            if errors.isEmpty { return "\(c.name): exit 2 without an error diagnostic" }
            if let unlocated = errors.first(where: { $0.line == nil || $0.file == nil }) {
                return "\(c.name): diagnostic \(unlocated.code) has no location"
            }
        }
        return nil
    }

    @Test func structuralBombsAndLimits() async throws {
        let failures = try await offPool { Self.structuralCases().compactMap(Self.check) }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test func invalidEncodings() async throws {
        let failures = try await offPool { Self.encodingCases().compactMap(Self.check) }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test func binaryGarbage() async throws {
        let failures = try await offPool { Self.garbageCases().compactMap(Self.check) }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test func truncatedAndTabbedFiles() async throws {
        let cases = Self.truncationCases()
        #expect(cases.count > 100)
        let failures = try await offPool { cases.compactMap(Self.check) }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test func everyValueWithTheWrongType() async throws {
        let cases = try WrongTypeCorpus.cases(from: Paths.fixtures.appendingPathComponent("pipelines/valid/006-every-key.yaml"))
        #expect(cases.count > 150, "\(cases.count) mutations")
        let failures = try await offPool { cases.compactMap(Self.check) }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}

/// Mutations of a pipeline that uses every key: each value in turn is replaced by one of the
/// wrong shape (a scalar or list by a mapping, a mapping by a list) or the wrong scalar type.
enum WrongTypeCorpus {
    indirect enum Tree {
        case scalar(String, YAMLNode.ResolvedKind)
        case list([Tree])
        case map([(String, Tree)])
    }

    static func tree(_ node: YAMLNode) -> Tree {
        switch node.content {
        case .scalar(let s, _): return .scalar(s, node.resolvedKind)
        case .sequence(let items): return .list(items.map(tree))
        case .mapping(let pairs): return .map(pairs.map { ($0.name, tree($0.value)) })
        }
    }

    static func emit(_ t: Tree) -> String {
        switch t {
        case .scalar(let s, let kind):
            if kind == .string {
                let data = try? JSONEncoder().encode(s)
                return data.map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
            }
            return s.isEmpty ? "null" : s
        case .list(let items): return "[" + items.map(emit).joined(separator: ", ") + "]"
        case .map(let pairs): return "{" + pairs.map { "\(emit(.scalar($0.0, .string))): \(emit($0.1))" }.joined(separator: ", ") + "}"
        }
    }

    /// One top-level key a line, so diagnostics land on distinct lines.
    static func document(_ t: Tree) -> String {
        guard case .map(let pairs) = t else { return emit(t) }
        return pairs.map { "\(emit(.scalar($0.0, .string))): \(emit($0.1))" }.joined(separator: "\n") + "\n"
    }

    /// Paths whose values accept several scalar types by design.
    static func acceptsAnyScalar(_ path: [String]) -> Bool {
        path.contains("env") || path.last == "key" || path.last == "retry" || (path.count >= 2 && path[path.count - 2] == "params" && path.contains("schedule"))
    }

    static func cases(from url: URL) throws -> [MalformedCorpusTests.Case] {
        let read = YAMLReader.read([UInt8](try Data(contentsOf: url)), file: url.lastPathComponent)
        guard let root = read.root else { throw TestFailure("fixture does not parse") }
        var cases: [MalformedCorpusTests.Case] = []
        func visit(_ t: Tree, _ path: [String], _ replace: (Tree) -> Tree) {
            if !path.isEmpty, !(path.first?.hasPrefix("x-") ?? false) {
                let name = path.joined(separator: ".").replacingOccurrences(of: "/", with: "_")
                switch t {
                case .map: cases.append(.init(name: "wrong-\(name)-list", bytes: Array(document(replace(.list([.scalar("1", .int)]))).utf8), mustBeInvalid: true))
                default: cases.append(.init(name: "wrong-\(name)-map", bytes: Array(document(replace(.map([("x", .scalar("1", .int))]))).utf8), mustBeInvalid: true))
                }
                if case .scalar(_, let kind) = t, !acceptsAnyScalar(path) {
                    let flipped: Tree = kind == .string ? .scalar("7", .int) : .scalar("not-a-\(kind.rawValue)", .string)
                    cases.append(.init(name: "wrong-\(name)-scalar", bytes: Array(document(replace(flipped)).utf8), mustBeInvalid: true))
                }
            }
            switch t {
            case .scalar: break
            case .list(let items):
                for (i, item) in items.enumerated() {
                    visit(item, path + ["\(i)"]) { new in var copy = items; copy[i] = new; return replace(.list(copy)) }
                }
            case .map(let pairs):
                for (i, pair) in pairs.enumerated() {
                    visit(pair.1, path + [pair.0]) { new in var copy = pairs; copy[i] = (pair.0, new); return replace(.map(copy)) }
                }
            }
        }
        visit(tree(root), []) { $0 }
        return cases
    }
}

