import Dispatch
import FoundationEssentials
import RunnerCore

/// Bounds that keep hostile input from costing unbounded time or memory.
public struct YAMLLimits: Sendable {
    public var maxFileBytes = 16 << 20
    public var maxScalarBytes = 1 << 20
    public var maxDepth = 128
    /// Nodes that aliases may expand to, in all (stops "billion laughs").
    public var maxAliasExpansion = 1_000_000

    public init() {}
    public static let standard = YAMLLimits()
}

/// Reads one YAML document into a located node tree with libyaml's event parser.
/// Rejects what the pipeline format never needs: several documents, unknown tags, complex
/// keys; reports duplicate keys (libyaml does not) and resolves `<<` merge keys.
public enum YAMLReader {
    public struct Output: Sendable {
        /// Nil when the document could not be read at all.
        public var root: YAMLNode?
        public var diagnostics: [Diagnostic]
    }

    /// Files at least this large are parsed on a second thread while the tree is built.
    static let threadedThreshold = 256 << 10
    static let chunkSize = 4096

    public static func read(_ bytes: [UInt8], file: String, limits: YAMLLimits = .standard) -> Output {
        if let problem = TextCheck.encodingProblem(bytes, file: file) {
            return Output(root: nil, diagnostics: [problem])
        }
        // A UTF-8 byte-order mark is allowed; libyaml, told the encoding, would read it as text.
        let hasBOM = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
        return bytes.withUnsafeBufferPointer { whole in
            let buffer = hasBOM ? UnsafeBufferPointer(rebasing: whole[3...]) : whole
            guard let producer = YAMLEventProducer(bytes: buffer, file: file, limits: limits) else {
                return Output(root: nil, diagnostics: [Diagnostic(.internalError, "libyaml could not be initialised")])
            }
            var builder = TreeBuilder(file: file, limits: limits)
            if buffer.count < threadedThreshold || ParallelMap.cores < 2 {
                while !builder.consume(producer.next(chunkSize)) {}
            } else {
                // libyaml parses on its own thread; this one builds the tree from its events.
                let queue = YAMLEventQueue()
                let done = DispatchSemaphore(value: 0)
                let work = ProducerWork(producer: producer)
                let started = Threads.tryStart(stackSize: 1 << 20) {
                    while true {
                        let chunk = work.producer.next(chunkSize)
                        if chunk.isEmpty || !queue.put(chunk) { break }
                        if let last = chunk.events.last?.kind, last == .streamEnd || last == .failure { break }
                    }
                    queue.finish()
                    done.signal()
                }
                if started != nil {
                    while let chunk = queue.take(), !builder.consume(chunk) {}
                    queue.cancel()
                    done.wait()
                } else {
                    // No thread to be had: parsed here, as a small file is.
                    while !builder.consume(producer.next(chunkSize)) {}
                }
            }
            return builder.output()
        }
    }

    /// The producer is used by one thread at a time: the parsing thread, until it signals.
    private struct ProducerWork: @unchecked Sendable {
        let producer: YAMLEventProducer
    }
}

struct TreeBuilder {
    /// An open collection. Its children wait in `pending` from index `start` until it closes,
    /// so no frame owns an array while it grows.
    struct Frame {
        var isMapping: Bool
        var location: SourceLocation
        var anchor: String?
        var tag: String?
        var start: Int
        var weight = 1
    }

    let file: String
    let fileID: SourceFileID
    let limits: YAMLLimits
    var stack: [Frame] = []
    var pending: [YAMLNode] = []
    var anchors: [String: YAMLNode] = [:]
    var root: YAMLNode?
    var documents = 0
    var aliasExpansion = 0
    var diagnostics: [Diagnostic] = []
    var stopped: Diagnostic?
    var isFinished = false

    init(file: String, limits: YAMLLimits) {
        self.file = file
        self.fileID = SourceFileID(file)
        self.limits = limits
    }

    struct Stop: Error { var diagnostic: Diagnostic }

    /// Builds from a chunk of events; true when the stream ended or reading stopped.
    mutating func consume(_ chunk: YAMLEventChunk) -> Bool {
        guard !isFinished else { return true }
        if chunk.isEmpty {
            isFinished = true
            return true
        }
        do {
            for index in chunk.events.indices {
                switch chunk.events[index].kind {
                case .streamEnd:
                    isFinished = true
                    return true
                case .failure:
                    throw Stop(diagnostic: chunk.events[index].failure ?? Diagnostic(.yamlSyntax, "invalid YAML"))
                default:
                    try handle(chunk.events[index], in: chunk)
                }
            }
        } catch let stop as Stop {
            stopped = stop.diagnostic
            isFinished = true
            return true
        } catch {
            stopped = Diagnostic(.internalError, "\(error)")
            isFinished = true
            return true
        }
        return false
    }

    func output() -> YAMLReader.Output {
        if let stopped { return .init(root: nil, diagnostics: diagnostics + [stopped]) }
        guard let root, !(root.resolvedKind == .null) else {
            let message = documents == 0 ? "the file is empty" : "the document is empty"
            return .init(root: nil, diagnostics: [Diagnostic(.emptyDocument, message, at: SourceLocation(fileID: fileID, line: 1, column: 1),
                                                             hint: DiagnosticCode.emptyDocument.help)])
        }
        return .init(root: root, diagnostics: diagnostics)
    }

    func location(_ event: YAMLEvent) -> SourceLocation {
        SourceLocation(fileID: fileID, line: Int(event.line), column: Int(event.column))
    }

    mutating func handle(_ event: YAMLEvent, in chunk: YAMLEventChunk) throws {
        switch event.kind {
        case .documentStart:
            documents += 1
            if documents > 1 {
                throw Stop(diagnostic: Diagnostic(.multipleDocuments, "the file holds more than one YAML document",
                                                  at: location(event), hint: DiagnosticCode.multipleDocuments.help))
            }
        case .scalar:
            let start = location(event)
            let tag = event.tag == nil ? nil : try checkTag(event.tag, expected: nil, at: start)
            let node = YAMLNode(.scalar(chunk.text(of: event), event.style), at: start, tag: tag,
                                isColumnExact: chunk.isColumnExact(event), weight: 1)
            if let anchor = event.anchor { anchors[anchor] = node }
            try add(node, at: start)
        case .alias:
            let name = chunk.text(of: event)
            guard let target = anchors[name] else {
                throw Stop(diagnostic: Diagnostic(.undefinedAlias, "alias '*\(name)' refers to no anchor defined before it",
                                                  at: location(event), length: name.count + 1,
                                                  hint: DiagnosticCode.undefinedAlias.help))
            }
            aliasExpansion += target.weight
            if aliasExpansion > limits.maxAliasExpansion {
                throw Stop(diagnostic: Diagnostic(.aliasLimit, "aliases expand to more than \(limits.maxAliasExpansion) nodes",
                                                  at: location(event), length: name.count + 1,
                                                  hint: DiagnosticCode.aliasLimit.help))
            }
            try add(target, at: location(event))
        case .sequenceStart, .mappingStart:
            let isMapping = event.kind == .mappingStart
            let tag = try checkTag(event.tag, expected: isMapping ? "map" : "seq", at: location(event))
            try push(Frame(isMapping: isMapping, location: location(event), anchor: event.anchor, tag: tag, start: pending.count))
        case .collectionEnd:
            try pop()
        case .streamEnd, .failure, .ignored:
            break
        }
    }
    mutating func push(_ frame: Frame) throws {
        guard stack.count < limits.maxDepth else {
            throw Stop(diagnostic: Diagnostic(.nestingTooDeep, "collections are nested deeper than \(limits.maxDepth) levels",
                                              at: frame.location, hint: DiagnosticCode.nestingTooDeep.help))
        }
        stack.append(frame)
    }

    /// Standard tags only; `!!str 5` is a string, `!custom` is refused.
    func checkTag(_ tag: String?, expected: String?, at location: SourceLocation) throws -> String? {
        guard let tag, tag != "!" else { return nil }
        let prefix = "tag:yaml.org,2002:"
        let short = tag.hasPrefix(prefix) ? String(tag.dropFirst(prefix.count)) : nil
        let scalarTags = ["str", "int", "float", "bool", "null"]
        if let short, let expected, short == expected { return short }
        if let short, expected == nil, scalarTags.contains(short) { return short }
        throw Stop(diagnostic: Diagnostic(.unsupportedTag, "unsupported tag '\(short.map { "!!" + $0 } ?? tag)'", at: location,
                                          hint: DiagnosticCode.unsupportedTag.help))
    }

    mutating func add(_ node: YAMLNode, at location: SourceLocation) throws {
        let top = stack.count - 1
        guard top >= 0 else {
            root = node
            return
        }
        pending.append(node)
        stack[top].weight += node.weight
        if stack[top].isMapping, (pending.count - stack[top].start) % 2 == 1, node.resolvedKind == .mapping || node.resolvedKind == .sequence {
            throw Stop(diagnostic: Diagnostic(.complexKey, "a mapping key must be a plain value, not \(node.resolvedKind.description)",
                                              at: location, hint: DiagnosticCode.complexKey.help))
        }
    }

    mutating func pop() throws {
        guard let frame = stack.popLast() else { return }
        let node: YAMLNode
        if frame.isMapping {
            node = YAMLNode(.mapping(try pairs(of: pending[frame.start...])), at: frame.location, tag: frame.tag, weight: frame.weight)
        } else {
            node = YAMLNode(.sequence(Array(pending[frame.start...])), at: frame.location, tag: frame.tag, weight: frame.weight)
        }
        pending.removeSubrange(frame.start...)
        if let anchor = frame.anchor { anchors[anchor] = node }
        try add(node, at: frame.location)
    }

    /// Pairs of a mapping, with duplicate keys reported and `<<` merges applied: explicit keys
    /// win over merged ones, and an earlier merge source wins over a later one.
    mutating func pairs(of children: ArraySlice<YAMLNode>) throws -> [YAMLPair] {
        var explicit: [YAMLPair] = []
        explicit.reserveCapacity(children.count / 2)
        var merges: [YAMLNode] = []
        // Pipeline mappings are small: below 16 keys a linear scan beats hashing.
        let isLarge = children.count > 32
        var firstByName: [String: YAMLNode] = [:]
        var index = children.startIndex
        while index + 1 < children.endIndex {
            let key = children[index], value = children[index + 1]
            index += 2
            let name = key.scalar ?? ""
            if name == "<<", case .scalar(_, .plain) = key.content, key.tag == nil {
                merges.append(value)
                continue
            }
            let earlier = isLarge ? firstByName[name] : explicit.first(where: { $0.name == name })?.key
            if let first = earlier {
                diagnostics.append(Diagnostic(.duplicateKey, "duplicate key '\(name)'", at: key.location, length: max(1, name.count),
                                              hint: DiagnosticCode.duplicateKey.help,
                                              notes: [.init("first defined here", at: first.location)]))
                continue
            }
            if isLarge { firstByName[name] = key }
            explicit.append(YAMLPair(key: key, value: value, name: name))
        }
        guard !merges.isEmpty else { return explicit }
        var merged = explicit
        var present = Set(explicit.map(\.name))
        for source in merges {
            let maps: [YAMLNode]
            switch source.content {
            case .mapping: maps = [source]
            case .sequence(let items) where items.allSatisfy({ if case .mapping = $0.content { true } else { false } }): maps = items
            default:
                throw Stop(diagnostic: Diagnostic(.invalidMergeKey, "'<<' must merge a mapping or a list of mappings, not \(source.resolvedKind.description)",
                                                  at: source.location, hint: DiagnosticCode.invalidMergeKey.help))
            }
            for map in maps {
                guard case .mapping(let items) = map.content else { continue }
                for pair in items where present.insert(pair.name).inserted { merged.append(pair) }
            }
        }
        return merged
    }
}
