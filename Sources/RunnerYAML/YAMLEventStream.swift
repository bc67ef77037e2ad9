import CYAML
import FoundationEssentials
import RunnerCore

/// Events copied out of libyaml, with the scalars' bytes in one buffer: the parsing thread
/// only copies bytes, and the building thread makes Swift strings from them.
struct YAMLEventChunk: Sendable {
    var events: [YAMLEvent] = []
    var bytes: [UInt8] = []

    var isEmpty: Bool { events.isEmpty }

    func text(of event: YAMLEvent) -> String {
        bytes.withUnsafeBufferPointer {
            String(decoding: UnsafeBufferPointer(rebasing: $0[Int(event.offset)..<Int(event.offset + event.length)]), as: UTF8.self)
        }
    }

    /// Whether the scalar's characters map one-to-one onto columns of its line.
    func isColumnExact(_ event: YAMLEvent) -> Bool {
        guard event.span >= 0 else { return false }
        let quotes = event.style == .singleQuoted || event.style == .doubleQuoted ? 2 : 0
        guard event.style == .plain || quotes == 2 else { return false }
        var scalars = 0
        for index in Int(event.offset)..<Int(event.offset + event.length) where bytes[index] & 0xC0 != 0x80 { scalars += 1 }
        return Int(event.span) - quotes == scalars
    }
}

/// One libyaml event as plain values.
struct YAMLEvent: Sendable {
    enum Kind: UInt8, Sendable {
        case documentStart, scalar, alias, sequenceStart, mappingStart, collectionEnd, streamEnd, failure
        /// Stream start and document end: nothing for the tree to do.
        case ignored
    }

    /// What few events carry: kept out of line so the common event copies two references.
    final class Extras: Sendable {
        let anchor: String?
        let tag: String?
        let failure: Diagnostic?

        init(anchor: String? = nil, tag: String? = nil, failure: Diagnostic? = nil) {
            self.anchor = anchor
            self.tag = tag
            self.failure = failure
        }
    }

    var kind: Kind
    var line: Int32 = 0
    var column: Int32 = 0
    var style: YAMLNode.ScalarStyle = .plain
    /// Columns the scalar spans on its line, or -1 when it spans lines.
    var span: Int32 = -1
    /// The scalar's text (or an alias's anchor name) in the chunk's bytes.
    var offset: Int32 = 0
    var length: Int32 = 0
    var extras: Extras?

    init(kind: Kind) { self.kind = kind }

    var anchor: String? { extras?.anchor }
    var tag: String? { extras?.tag }
    var failure: Diagnostic? { extras?.failure }

    static func failure(_ diagnostic: Diagnostic) -> YAMLEvent {
        var event = YAMLEvent(kind: .failure)
        event.extras = Extras(failure: diagnostic)
        return event
    }
}

/// Runs libyaml's event parser over a buffer and hands out events in chunks.
final class YAMLEventProducer {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let bytes: UnsafeBufferPointer<UInt8>
    private let file: String
    private let fileID: SourceFileID
    private let limits: YAMLLimits
    private var isDone = false

    init?(bytes: UnsafeBufferPointer<UInt8>, file: String, limits: YAMLLimits) {
        // libyaml keeps a pointer to the parser itself: it must not move, so it lives on the heap.
        parser = .allocate(capacity: 1)
        guard yaml_parser_initialize(parser) == 1 else {
            parser.deallocate()
            return nil
        }
        yaml_parser_set_input_string(parser, bytes.baseAddress, bytes.count)
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        self.bytes = bytes
        self.file = file
        self.fileID = SourceFileID(file)
        self.limits = limits
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
    }

    /// Up to `count` events; the last chunk ends with `.streamEnd` or `.failure`.
    func next(_ count: Int) -> YAMLEventChunk {
        guard !isDone else { return YAMLEventChunk() }
        var chunk = YAMLEventChunk()
        chunk.events.reserveCapacity(count)
        chunk.bytes.reserveCapacity(count * 16)
        var event = yaml_event_t()
        while chunk.events.count < count {
            guard yaml_parser_parse(parser, &event) == 1 else {
                chunk.events.append(.failure(parserError()))
                isDone = true
                return chunk
            }
            let converted = convert(&event, into: &chunk.bytes)
            yaml_event_delete(&event)
            chunk.events.append(converted)
            if converted.kind == .streamEnd || converted.kind == .failure {
                isDone = true
                break
            }
        }
        return chunk
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private func append(_ pointer: UnsafePointer<yaml_char_t>?, _ length: Int, to bytes: inout [UInt8], _ out: inout YAMLEvent) {
        out.offset = Int32(bytes.count)
        out.length = Int32(length)
        if let pointer, length > 0 { bytes.append(contentsOf: UnsafeBufferPointer(start: pointer, count: length)) }
    }

    private func convert(_ event: inout yaml_event_t, into bytes: inout [UInt8]) -> YAMLEvent {
        var out: YAMLEvent
        switch event.type {
        case YAML_DOCUMENT_START_EVENT: out = YAMLEvent(kind: .documentStart)
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            guard data.length <= limits.maxScalarBytes else {
                return .failure(Diagnostic(.scalarTooLong, "a value of \(data.length) bytes is longer than the limit of \(limits.maxScalarBytes) bytes",
                                           at: location(event.start_mark), hint: DiagnosticCode.scalarTooLong.help))
            }
            out = YAMLEvent(kind: .scalar)
            append(data.value, data.value == nil ? 0 : data.length, to: &bytes, &out)
            switch data.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: out.style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: out.style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: out.style = .literal
            case YAML_FOLDED_SCALAR_STYLE: out.style = .folded
            default: out.style = .plain
            }
            if data.tag != nil || data.anchor != nil { out.extras = YAMLEvent.Extras(anchor: string(data.anchor), tag: string(data.tag)) }
            if event.start_mark.line == event.end_mark.line {
                out.span = Int32(clamping: Int(event.end_mark.column) - Int(event.start_mark.column))
            }
        case YAML_ALIAS_EVENT:
            out = YAMLEvent(kind: .alias)
            let anchor = event.data.alias.anchor
            append(anchor, anchor.map { strlen(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) } ?? 0, to: &bytes, &out)
        case YAML_SEQUENCE_START_EVENT:
            out = YAMLEvent(kind: .sequenceStart)
            let data = event.data.sequence_start
            if data.tag != nil || data.anchor != nil { out.extras = YAMLEvent.Extras(anchor: string(data.anchor), tag: string(data.tag)) }
        case YAML_MAPPING_START_EVENT:
            out = YAMLEvent(kind: .mappingStart)
            let data = event.data.mapping_start
            if data.tag != nil || data.anchor != nil { out.extras = YAMLEvent.Extras(anchor: string(data.anchor), tag: string(data.tag)) }
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT: out = YAMLEvent(kind: .collectionEnd)
        case YAML_STREAM_END_EVENT: out = YAMLEvent(kind: .streamEnd)
        default: return YAMLEvent(kind: .ignored)
        }
        out.line = Int32(clamping: Int(event.start_mark.line) + 1)
        out.column = Int32(clamping: Int(event.start_mark.column) + 1)
        return out
    }

    private func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(fileID: fileID, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private func parserError() -> Diagnostic {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "invalid YAML"
        let at = p.error == YAML_READER_ERROR
            ? TextCheck.location(ofByte: Int(p.problem_offset), in: bytes, file: file)
            : location(p.problem_mark)
        var message = problem
        var notes: [Diagnostic.Note] = []
        if let context = p.context.map({ String(cString: $0) }) {
            message = "\(problem) \(context)"
            if p.error != YAML_READER_ERROR, p.context_mark.index != p.problem_mark.index {
                notes.append(.init("\(context.replacing("while ", with: "")) started here", at: location(p.context_mark)))
            }
        }
        var hint = DiagnosticCode.yamlSyntax.help
        if p.error != YAML_READER_ERROR,
           let character = TextCheck.character(atCharacterIndex: Int(p.problem_mark.index), in: bytes), character == "\t" {
            hint = "YAML indentation uses spaces; replace the tab with spaces"
        } else if problem.contains("control characters") || problem.contains("invalid") && problem.contains("octet") {
            hint = "this looks like a binary file, not a pipeline"
        }
        return Diagnostic(.yamlSyntax, message, at: at, hint: hint, notes: notes)
    }
}

/// Hands event chunks from the parsing thread to the building thread. Bounded, so a
/// consumer that stopped early (a bomb, a syntax error) never lets the parser run ahead.
final class YAMLEventQueue: @unchecked Sendable {
    private let condition = Condition()
    private var chunks: [YAMLEventChunk] = []
    private var isFinished = false
    private var isCancelled = false
    /// Chunks that may wait to be taken (the parser then waits for room).
    private let capacity = 8

    /// False when the consumer has gone away.
    func put(_ chunk: YAMLEventChunk) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= capacity && !isCancelled { condition.wait() }
        guard !isCancelled else { return false }
        chunks.append(chunk)
        condition.broadcast()
        return true
    }

    func finish() {
        condition.lock()
        isFinished = true
        condition.broadcast()
        condition.unlock()
    }

    func cancel() {
        condition.lock()
        isCancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next chunk, or nil when the producer finished and everything was taken.
    func take() -> YAMLEventChunk? {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty && !isFinished { condition.wait() }
        guard !chunks.isEmpty else { return nil }
        let chunk = chunks.removeFirst()
        condition.broadcast()
        return chunk
    }
}
