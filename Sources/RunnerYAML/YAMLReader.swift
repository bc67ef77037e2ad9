import CYAML
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

    public static func read(_ bytes: [UInt8], file: String, limits: YAMLLimits = .standard) -> Output {
        if let problem = TextCheck.encodingProblem(bytes, file: file) {
            return Output(root: nil, diagnostics: [problem])
        }
        return bytes.withUnsafeBufferPointer { buffer in
            var builder = TreeBuilder(file: file, limits: limits, bytes: buffer)
            return builder.run()
        }
    }
}

private struct TreeBuilder {
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
    let bytes: UnsafeBufferPointer<UInt8>
    var stack: [Frame] = []
    var pending: [YAMLNode] = []
    var anchors: [String: YAMLNode] = [:]
    var root: YAMLNode?
    var documents = 0
    var aliasExpansion = 0
    var diagnostics: [Diagnostic] = []

    init(file: String, limits: YAMLLimits, bytes: UnsafeBufferPointer<UInt8>) {
        self.file = file
        self.fileID = SourceFileID(file)
        self.limits = limits
        self.bytes = bytes
    }

    struct Stop: Error { var diagnostic: Diagnostic }

    mutating func run() -> YAMLReader.Output {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return .init(root: nil, diagnostics: [Diagnostic(.internalError, "libyaml could not be initialised")])
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_input_string(&parser, bytes.baseAddress, bytes.count)
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        var event = yaml_event_t()
        do {
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else { throw Stop(diagnostic: parserError(parser)) }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { break }
                try handle(&event)
            }
        } catch let stop as Stop {
            return .init(root: nil, diagnostics: diagnostics + [stop.diagnostic])
        } catch {
            return .init(root: nil, diagnostics: [Diagnostic(.internalError, "\(error)")])
        }
        guard let root, !(root.resolvedKind == .null) else {
            let message = documents == 0 ? "the file is empty" : "the document is empty"
            return .init(root: nil, diagnostics: [Diagnostic(.emptyDocument, message, at: SourceLocation(file: file, line: 1, column: 1),
                                                             hint: DiagnosticCode.emptyDocument.help)])
        }
        return .init(root: root, diagnostics: diagnostics)
    }

    func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(fileID: fileID, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    mutating func handle(_ event: inout yaml_event_t) throws {
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                throw Stop(diagnostic: Diagnostic(.multipleDocuments, "the file holds more than one YAML document",
                                                  at: location(event.start_mark), hint: DiagnosticCode.multipleDocuments.help))
            }
        case YAML_SCALAR_EVENT:
            try scalar(&event)
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor) ?? ""
            guard let target = anchors[name] else {
                throw Stop(diagnostic: Diagnostic(.undefinedAlias, "alias '*\(name)' refers to no anchor defined before it",
                                                  at: location(event.start_mark), length: name.count + 1,
                                                  hint: DiagnosticCode.undefinedAlias.help))
            }
            aliasExpansion += target.weight
            if aliasExpansion > limits.maxAliasExpansion {
                throw Stop(diagnostic: Diagnostic(.aliasLimit, "aliases expand to more than \(limits.maxAliasExpansion) nodes",
                                                  at: location(event.start_mark), length: name.count + 1,
                                                  hint: DiagnosticCode.aliasLimit.help))
            }
            try add(target, at: location(event.start_mark))
        case YAML_SEQUENCE_START_EVENT:
            let tag = try checkTag(Self.string(event.data.sequence_start.tag), expected: "seq", at: location(event.start_mark))
            try push(Frame(isMapping: false, location: location(event.start_mark),
                           anchor: Self.string(event.data.sequence_start.anchor), tag: tag, start: pending.count))
        case YAML_MAPPING_START_EVENT:
            let tag = try checkTag(Self.string(event.data.mapping_start.tag), expected: "map", at: location(event.start_mark))
            try push(Frame(isMapping: true, location: location(event.start_mark),
                           anchor: Self.string(event.data.mapping_start.anchor), tag: tag, start: pending.count))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            try pop()
        default:
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

    mutating func scalar(_ event: inout yaml_event_t) throws {
        let data = event.data.scalar
        let start = location(event.start_mark)
        guard data.length <= limits.maxScalarBytes else {
            throw Stop(diagnostic: Diagnostic(.scalarTooLong, "a value of \(data.length) bytes is longer than the limit of \(limits.maxScalarBytes) bytes",
                                              at: start, hint: DiagnosticCode.scalarTooLong.help))
        }
        let raw = UnsafeBufferPointer(start: data.value, count: data.value == nil ? 0 : data.length)
        let text = String(decoding: raw, as: UTF8.self)
        let style: YAMLNode.ScalarStyle
        switch data.style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: style = .literal
        case YAML_FOLDED_SCALAR_STYLE: style = .folded
        default: style = .plain
        }
        let tag = data.tag == nil ? nil : try checkTag(Self.string(data.tag), expected: nil, at: start)
        var exact = false
        if event.start_mark.line == event.end_mark.line {
            let span = Int(event.end_mark.column) - Int(event.start_mark.column)
            let quotes = style == .singleQuoted || style == .doubleQuoted ? 2 : 0
            var scalars = 0
            for byte in raw where byte & 0xC0 != 0x80 { scalars += 1 }
            exact = (style == .plain || quotes == 2) && span - quotes == scalars
        }
        let node = YAMLNode(.scalar(text, style), at: start, tag: tag, isColumnExact: exact, weight: 1)
        if data.anchor != nil, let anchor = Self.string(data.anchor) { anchors[anchor] = node }
        try add(node, at: start)
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

    func parserError(_ parser: yaml_parser_t) -> Diagnostic {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        var at: SourceLocation
        if parser.error == YAML_READER_ERROR {
            at = TextCheck.location(ofByte: Int(parser.problem_offset), in: bytes, file: file)
        } else {
            at = location(parser.problem_mark)
        }
        var message = problem
        var notes: [Diagnostic.Note] = []
        if let context = parser.context.map({ String(cString: $0) }) {
            message = "\(problem) \(context)"
            if parser.error != YAML_READER_ERROR, parser.context_mark.index != parser.problem_mark.index {
                notes.append(.init("\(context.replacingOccurrences(of: "while ", with: "")) started here", at: location(parser.context_mark)))
            }
        }
        var hint = DiagnosticCode.yamlSyntax.help
        let offset = Int(parser.problem_mark.index)
        if parser.error != YAML_READER_ERROR, let character = TextCheck.character(atCharacterIndex: offset, in: bytes), character == "\t" {
            hint = "YAML indentation uses spaces; replace the tab with spaces"
        } else if problem.contains("control characters") || problem.contains("invalid") && problem.contains("octet") {
            hint = "this looks like a binary file, not a pipeline"
        }
        return Diagnostic(.yamlSyntax, message, at: at, hint: hint, notes: notes)
    }
}
