import Foundation
import RunnerCore
import Testing
@testable import RunnerYAML

/// A file read in two pieces at once (YAMLSplitRead) must give exactly the tree of the usual
/// read, or decline (nil) so the usual read is used: checked at every cut of every fixture
/// and of texts made to tempt a wrong cut.
@Suite struct YAMLSplitReadTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every node: kind, text, style, tag, location, how it resolves; pairs with their names.
    func dump(_ node: YAMLNode, _ out: inout [String], _ depth: Int = 0) {
        let pad = String(repeating: " ", count: depth)
        let at = "\(node.location.line):\(node.location.column) \(node.tag ?? "-") \(node.resolvedKind) \(node.isColumnExact)"
        switch node.content {
        case .scalar(let text, let style): out.append("\(pad)scalar \(text.debugDescription) \(style) \(at)")
        case .sequence(let items):
            out.append("\(pad)sequence \(items.count) \(at)")
            for item in items { dump(item, &out, depth + 1) }
        case .mapping(let pairs):
            out.append("\(pad)mapping \(pairs.count) \(at)")
            for pair in pairs {
                out.append("\(pad) key \(pair.name)")
                dump(pair.key, &out, depth + 2)
                dump(pair.value, &out, depth + 2)
            }
        }
    }

    /// Checks every cut of `text`; returns how many cuts were taken (not declined).
    @discardableResult
    func checkEveryCut(_ text: String, file: String = "t.yaml", every: Int = 1, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Int {
        checkEveryCut(bytes: Array(text.utf8), file: file, every: every, sourceLocation: sourceLocation)
    }

    @discardableResult
    func checkEveryCut(bytes: [UInt8], file: String, every: Int = 1, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Int {
        let usual = YAMLReader.read(bytes, file: file)
        var expected: [String] = []
        if let root = usual.root { dump(root, &expected) }
        var taken = 0
        bytes.withUnsafeBufferPointer { buffer in
            for (n, plan) in YAMLSplitRead.plans(buffer).enumerated() where n % every == 0 {
                guard let split = YAMLSplitRead.read(buffer, plan: plan, file: file, limits: .standard) else { continue }
                taken += 1
                var got: [String] = []
                if let root = split.root { dump(root, &got) }
                #expect(usual.diagnostics.isEmpty && split.diagnostics.isEmpty, "a cut read with diagnostics: \(usual.diagnostics)",
                        sourceLocation: sourceLocation)
                let same = got == expected
                #expect(same, "cut at line \(plan.splitLine + 1): \(zip(got, expected).first { $0 != $1 }.map { "\($0) vs \($1)" } ?? "lengths \(got.count) vs \(expected.count)")",
                        sourceLocation: sourceLocation)
            }
        }
        return taken
    }

    @Test func everyFixtureReadsAlikeAtEveryCut() throws {
        var files: [URL] = []
        for dir in ["Tests/Fixtures", "pipelines"] {
            let root = Self.packageRoot.appendingPathComponent(dir)
            let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
            while let url = walker?.nextObject() as? URL {
                if url.pathExtension == "yaml" || url.pathExtension == "yml" { files.append(url) }
            }
        }
        #expect(files.count > 100)
        var taken = 0
        for url in files {
            taken += checkEveryCut(bytes: Array(try Data(contentsOf: url)), file: url.lastPathComponent)
        }
        #expect(taken > 50, "cuts were taken, not all declined")
    }

    @Test func aLargeGeneratedPipelineIsCutAndReadAlike() throws {
        var text = "version: 1\nname: big\nparams:\n  n: {type: int, default: 3}\nsteps:\n"
        for i in 0..<600 {
            let needs = i == 0 ? "" : ", needs: [" + (max(0, i - 3)..<i).map { "s\($0)" }.joined(separator: ", ") + "]"
            text += "  - {name: s\(i), run: \"echo \(i)\"\(needs)}\n"
            if i % 50 == 0 { text += "  # layer \(i / 50)\n\n" }
        }
        text += "finally:\n  steps:\n    - name: tidy\n      run: |\n        echo done\n"
        let bytes = Array(text.utf8)
        let plan = try #require(bytes.withUnsafeBufferPointer { YAMLSplitRead.plan($0, minimumPiece: 4096) })
        #expect(plan.split > 0 && plan.listEnd < bytes.count)
        #expect(checkEveryCut(text, every: 25) == 24)
        // The usual entry point takes the cut for a file this size when told a smaller minimum;
        // here the whole pipeline decodes and validates as it does read the usual way.
        let loaded = PipelineLoader.load(bytes: bytes, file: "big.yaml")
        #expect(loaded.isValid, "\(loaded.diagnostics)")
    }

    /// Texts where a line looks like an item of the list but is not, or where the pieces
    /// cannot stand alone: each cut declines or reads alike; `taken` is how many are taken.
    @Test(arguments: [
        // A flow sequence spanning lines: its cut is declined, there is no other.
        ("version: 1\nsteps:\n  - {name: a, run: x, needs: [b,\n  - c]}\n  - name: b\n    run: y\n", 0),
        // A quoted scalar whose second line looks like an item: declined there, taken at c.
        ("version: 1\nsteps:\n  - name: a\n    run: \"echo\n  - b\"\n  - name: c\n    run: x\n", 1),
        // A block scalar (its lines are deeper) and a comment that looks like an item.
        ("version: 1\nsteps:\n  - name: a\n    run: |\n      - not an item\n  # - nor this\n  - name: b\n    run: y\n", 1),
        // Items at column 0, a key after them.
        ("version: 1\nsteps:\n- name: a\n  run: x\n- name: b\n  run: y\n- name: c\n  run: z\nfinally:\n- name: f\n  run: w\n", 2),
        // An anchor in the first piece, its alias in the second.
        ("version: 1\nsteps:\n  - &a {name: a, run: x}\n  - name: b\n    run: y\n  - *a\n", 2),
        // A merge key across the cut.
        ("version: 1\nx-base: &base {run: x}\nsteps:\n  - name: a\n    <<: *base\n  - name: b\n    <<: *base\n", 1),
        // Tags, a sequence of sequences, an empty item.
        ("version: 1\nsteps:\n  - !!map {name: a, run: x}\n  - - nested\n    - list\n  -\n  - name: c\n", 3),
        // Something after the list at column 0 that is not a key: declined.
        ("version: 1\nsteps:\n  - name: a\n  - name: b\n- stray\n", 0),
        // A second document, a directive: never cut.
        ("version: 1\nsteps:\n  - name: a\n  - name: b\n---\nother: 1\n", 0),
        ("%YAML 1.2\n---\nversion: 1\nsteps:\n  - name: a\n  - name: b\n", 0),
        // Indentation that changes inside the list: declined.
        ("version: 1\nsteps:\n  - name: a\n   - name: b\n  - name: c\n", 0),
        // A duplicate key after the list (the usual read reports it): declined.
        ("version: 1\nsteps:\n  - name: a\n  - name: b\nsteps:\n  - name: c\n", 0),
        // A tab in a value, trailing spaces, a comment on the steps line.
        ("version: 1\nsteps:   # the steps\n  - name: a\n    run: \"x\ty\"\n  - name: b   \n", 1),
    ])
    func trickyTextsDeclineOrReadAlike(_ text: String, taken: Int) {
        #expect(checkEveryCut(text) == taken)
    }

    /// Pipelines made at random (fixed seeds) from the constructs a cut could trip on: every
    /// cut declines or reads alike, and cuts are taken.
    @Test func randomPipelinesReadAlikeAtEveryCut() {
        var taken = 0, cuts = 0
        for seed in UInt64(1)...40 {
            var random = SplitMix(seed: seed)
            func pick<T>(_ options: [T]) -> T { options[Int(random.next() % UInt64(options.count))] }
            let indent = pick(["", "  ", "    "])
            let more = indent + "  "
            var text = pick(["", "---\n", "# a pipeline\n"]) + "version: 1\nname: random\nx-base: &base\n  shell: bash\n"
            text += pick(["steps:\n", "steps:  # the list\n", "steps:\n\n"])
            var anchor: Int?
            for i in 0..<40 {
                switch random.next() % 9 {
                case 0: text += "\(indent)- {name: s\(i), run: \"echo \(i)\"}\n"
                // A block scalar with a line like an item (deeper, so part of the text).
                case 1: text += "\(indent)- name: s\(i)\n\(more)run: |\n\(more)  echo \(i)\n\(more)  - not an item\n"
                // A quoted scalar whose next line, at the items' column, looks like an item.
                case 2: text += "\(indent)- name: s\(i)\n\(more)run: \"echo\n\(indent)- \(i)\"\n"
                // A flow list over two lines.
                case 3: text += "\(indent)- name: s\(i)\n\(more)run: x\n\(more)needs: [a,\n\(more)  b]\n"
                case 4: text += "\(indent)# - s\(i) is commented out\n\n"
                case 5:
                    text += "\(indent)- &s\(i) {name: s\(i), run: y}\n"
                    anchor = i
                case 6: text += anchor.map { "\(indent)- *s\($0)\n" } ?? "\(indent)- name: s\(i)\n"
                case 7: text += "\(indent)- name: s\(i)\n\(more)<<: *base\n\(more)run: >\n\(more)  folded \(i)\n"
                default: text += "\(indent)- - nested \(i)\n\(more)- list\n"
                }
            }
            text += pick(["", "finally:\n  steps:\n    - {name: f, run: z}\n", "# the end\n", "rollback:\n  steps: []\n"])
            #expect(YAMLReader.read(Array(text.utf8), file: "t.yaml").diagnostics.isEmpty, "seed \(seed) makes a text the usual read refuses")
            taken += checkEveryCut(text)
            cuts += Array(text.utf8).withUnsafeBufferPointer { YAMLSplitRead.plans($0) }.count
        }
        #expect(taken > cuts / 4, "\(taken) of \(cuts) cuts taken")
    }

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// The items after the cut are parsed alone, one level below where they stand in the file:
    /// an item nested to the limit reads alike, and one nested past it is declined at every cut
    /// (the usual read reports it).
    @Test func nestingAtTheLimitReadsAlikeAcrossTheCut() {
        let limit = YAMLLimits.standard.maxDepth
        for extra in [0, 1] {
            // The top mapping and the list are two levels: the item's lists make up the rest.
            let depth = limit - 2 + extra
            let nested = String(repeating: "[", count: depth) + "x" + String(repeating: "]", count: depth)
            let text = "version: 1\nsteps:\n  - {name: a, run: x}\n  - \(nested)\n  - {name: c, run: y}\n"
            let usual = YAMLReader.read(Array(text.utf8), file: "t.yaml")
            #expect(usual.diagnostics.isEmpty == (extra == 0), "\(usual.diagnostics)")
            #expect(checkEveryCut(text) == (extra == 0 ? 2 : 0))
        }
    }

    /// An item with an anchor and a merge, wherever it falls around the cut, and its alias at
    /// the end of the list: every cut reads alike.
    @Test func itemsWithAnchorsAfterTheCutReadAlike() {
        for position in 0..<4 {
            var text = "version: 1\nx-base: &base {shell: bash}\nsteps:\n  - {name: first, run: x}\n"
            for i in 0..<4 {
                text += i == position ? "  - &item {name: s\(i), run: y, <<: *base}\n" : "  - name: s\(i)\n    run: \"echo \(i)\"\n"
            }
            text += "  - *item\nfinally:\n  steps:\n    - {name: f, run: z}\n"
            #expect(YAMLReader.read(Array(text.utf8), file: "t.yaml").diagnostics.isEmpty)
            #expect(checkEveryCut(text) == 5)
        }
    }

    @Test func carriageReturnsAndUnicodeLineBreaksAreNeverCut() {
        for text in ["version: 1\r\nsteps:\r\n  - a\r\n  - b\r\n", "version: 1\nsteps:\n  - a\u{2028}\n  - b\n", "version: 1\nsteps:\n  - a\u{85}x\n  - b\n"] {
            #expect(Array(text.utf8).withUnsafeBufferPointer { YAMLSplitRead.plans($0) }.isEmpty)
        }
    }
}
