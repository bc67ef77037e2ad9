#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import FoundationEssentials
import RunnerCore

/// A large pipeline read by two libyaml parsers at once. libyaml is the slowest part of
/// reading a big file (36 ms of a 670 KB pipeline whose 1,000 steps each list 100 needs), and
/// it is sequential; the top-level `steps:` list of such a file is most of it. So the file is
/// cut at an item of that list: the part before (with the `steps:` key) is parsed as usual
/// while the rest of the list is parsed alone on another thread, as a document of its own, and
/// what follows the list (more top-level keys) alone too. Their events are joined into the
/// events the whole file gives: the first part's up to its last item; the list's items; the
/// end of the list; the later keys; the end of the document.
///
/// Conservative by construction: the cut is made only where the text leaves no doubt (a
/// `steps:` line at column 0, the list's items at one indentation, no other document, no
/// directive, no carriage return or Unicode line break); every part must parse without error
/// and have exactly the shape expected, and the tree must come out without any diagnostic.
/// Otherwise the file is read again the usual way, so what is reported about a file never
/// depends on this. `YAMLSplitReadTests` compares both reads over every fixture and many cuts.
enum YAMLSplitRead {
    /// Where the file is cut: the list's part from `split` to `listEnd`; what follows, after.
    struct Plan: Equatable {
        var split: Int
        var listEnd: Int
        /// Lines before `split` and before `listEnd`.
        var splitLine: Int
        var listEndLine: Int
        /// The column (0-based) of the list's `-`.
        var indent: Int
    }

    /// Where to cut: about 30% into the file, where the first part's parsing and the
    /// building of the whole tree (this thread) take about as long as parsing the rest of the
    /// list (the other); `minimumPiece` bytes at least on each side.
    static func plan(_ b: UnsafeBufferPointer<UInt8>, minimumPiece: Int) -> Plan? {
        let target = b.count * 30 / 100
        return plans(b).filter { $0.split >= minimumPiece && $0.listEnd - $0.split >= minimumPiece }
            .min { abs($0.split - target) < abs($1.split - target) }
    }

    /// Every cut the file allows: one at each item of its top-level `steps:` list but the first.
    static func plans(_ b: UnsafeBufferPointer<UInt8>) -> [Plan] {
        let newline = UInt8(ascii: "\n"), space = UInt8(ascii: " "), hash = UInt8(ascii: "#"), dash = UInt8(ascii: "-")
        let n = b.count
        guard let base = b.baseAddress, n > 0 else { return [] }
        // Offset of the next `byte` from `from`, or `n` (memchr: the file is scanned a few
        // times, each at memory speed, instead of once a byte at a time).
        func find(_ byte: UInt8, from: Int) -> Int {
            guard from < n, let found = memchr(base + from, Int32(byte), n - from) else { return n }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
        // Line breaks libyaml counts that a cut by '\n' would not: '\r', NEL, LS, PS.
        if find(0x0D, from: 0) < n { return [] }
        var i = find(0xC2, from: 0)
        while i < n {
            if i + 1 < n, b[i + 1] == 0x85 { return [] }
            i = find(0xC2, from: i + 1)
        }
        i = find(0xE2, from: 0)
        while i < n {
            if i + 2 < n, b[i + 1] == 0x80, b[i + 2] == 0xA8 || b[i + 2] == 0xA9 { return [] }
            i = find(0xE2, from: i + 1)
        }
        enum State { case before, listFirst, list }
        var state = State.before
        var line = 0, start = 0, sawContent = false
        var indent = -1, firstItem = -1
        var items: [(offset: Int, line: Int)] = []
        var listEnd = n, listEndLine = -1
        while start < n {
            let end = find(newline, from: start)
            var column = start
            while column < end && b[column] == space { column += 1 }
            let spaces = column - start
            let isBlank = column == end || b[column] == hash
            func startsWith(_ text: StaticString) -> Bool {
                let count = text.utf8CodeUnitCount
                guard end - start >= count else { return false }
                return (0..<count).allSatisfy { b[start + $0] == text.utf8Start[$0] }
            }
            if !isBlank && spaces == 0 {
                // Directives and document markers: one document only, the usual way.
                if b[start] == UInt8(ascii: "%") || startsWith("...") { return [] }
                if startsWith("---") && sawContent { return [] }
            }
            switch state {
            case .before:
                if !isBlank && spaces == 0 && startsWith("steps:") {
                    // `steps:` alone on its line (a comment may follow): the list is below it.
                    var k = start + 6
                    while k < end && b[k] == space { k += 1 }
                    guard k == end || b[k] == hash else { return [] }
                    state = .listFirst
                }
            case .listFirst:
                if !isBlank {
                    guard b[column] == dash, column + 1 == end || b[column + 1] == space else { return [] }
                    indent = spaces
                    firstItem = start
                    state = .list
                }
            case .list:
                if !isBlank {
                    if spaces < indent || (spaces == indent && !(b[column] == dash && (column + 1 == end || b[column + 1] == space))) {
                        listEnd = start
                        listEndLine = line
                        start = n  // done
                        continue
                    }
                    if spaces == indent && start != firstItem { items.append((start, line)) }
                }
            }
            if !isBlank { sawContent = true }
            line += 1
            start = end + 1
        }
        guard state == .list, firstItem >= 0 else { return [] }
        if listEndLine < 0 {
            listEnd = n
            listEndLine = line
        }
        return items.map { Plan(split: $0.offset, listEnd: listEnd, splitLine: $0.line, listEndLine: listEndLine, indent: indent) }
    }

    /// Every event of a piece parsed alone, in chunks; nil when it does not parse.
    static func events(of piece: UnsafeBufferPointer<UInt8>, lineOffset: Int, file: String, limits: YAMLLimits) -> [YAMLEventChunk]? {
        guard let producer = YAMLEventProducer(bytes: piece, file: file, limits: limits) else { return nil }
        producer.lineOffset = Int32(clamping: lineOffset)
        var chunks: [YAMLEventChunk] = []
        while true {
            let chunk = producer.next(YAMLReader.chunkSize)
            if chunk.isEmpty { break }
            if chunk.events.contains(where: { $0.kind == .failure }) { return nil }
            chunks.append(chunk)
            if chunk.events.last?.kind == .streamEnd { break }
        }
        return chunks
    }

    /// The inner events of a piece parsed alone as one collection (`root` at `column`): all but
    /// its stream and document start, the collection's start and end, the document and stream
    /// end. Nil unless the piece is exactly that.
    static func inner(_ chunks: [YAMLEventChunk], root: YAMLEvent.Kind, column: Int) -> [YAMLEventChunk]? {
        // The first three events and the last three, wherever the chunks split them.
        var first: [YAMLEvent] = [], last: [YAMLEvent] = []
        for chunk in chunks where first.count < 3 { first += chunk.events.prefix(3 - first.count) }
        for chunk in chunks.reversed() where last.count < 3 { last = chunk.events.suffix(3 - last.count) + last }
        let total = chunks.reduce(0) { $0 + $1.events.count }
        guard total >= 6, first.map(\.kind) == [.ignored, .documentStart, root], last.map(\.kind) == [.collectionEnd, .ignored, .streamEnd],
              // The collection's own start: at the expected column, with no anchor or tag.
              Int(first[2].column) == column + 1, first[2].extras == nil else { return nil }
        var result = chunks
        var dropFront = 3, dropBack = 3
        for k in result.indices where dropFront > 0 {
            let take = min(dropFront, result[k].events.count)
            result[k].events.removeFirst(take)
            dropFront -= take
        }
        for k in result.indices.reversed() where dropBack > 0 {
            let take = min(dropBack, result[k].events.count)
            result[k].events.removeLast(take)
            dropBack -= take
        }
        // Nothing between may start or end a document or a stream.
        for chunk in result where chunk.events.contains(where: { $0.kind == .documentStart || $0.kind == .streamEnd || $0.kind == .failure }) {
            return nil
        }
        return result.filter { !$0.events.isEmpty }
    }

    /// The tree read with the file cut as `plan` says, or nil when that cannot be trusted (the
    /// caller then reads the file the usual way).
    static func read(_ buffer: UnsafeBufferPointer<UInt8>, plan: Plan, file: String, limits: YAMLLimits) -> YAMLReader.Output? {
        let before = UnsafeBufferPointer(rebasing: buffer[..<plan.split])
        // The list's items, then what follows the list, parsed on another thread while this one
        // parses and builds the first part; the items' events wait in a queue until then (it
        // has room for all: the other thread never waits for this one).
        let pieces = PiecesWork(list: UnsafeBufferPointer(rebasing: buffer[plan.split..<plan.listEnd]),
                                rest: UnsafeBufferPointer(rebasing: buffer[plan.listEnd...]))
        let queue = YAMLEventQueue(capacity: .max)
        let done = DispatchSemaphore(value: 0)
        // No thread to be had: nil, and the file is read the usual way.
        guard Threads.tryStart(stackSize: 1 << 20, { [pieces, queue] in
            var complete = false
            if let producer = YAMLEventProducer(bytes: pieces.listBytes, file: file, limits: limits) {
                producer.lineOffset = Int32(clamping: plan.splitLine)
                while true {
                    let chunk = producer.next(YAMLReader.chunkSize)
                    if chunk.isEmpty || !queue.put(chunk) { break }
                    if let kind = chunk.events.last?.kind, kind == .streamEnd || kind == .failure {
                        complete = kind == .streamEnd
                        break
                    }
                }
            }
            queue.finish()
            if complete && !pieces.restBytes.isEmpty {
                pieces.rest = events(of: pieces.restBytes, lineOffset: plan.listEndLine, file: file, limits: limits)
            }
            done.signal()
        }) != nil else { return nil }
        // The other thread reads `buffer`: it has finished before this returns.
        var joined = false
        func join() {
            if !joined { done.wait() }
            joined = true
        }
        defer {
            queue.cancel()
            join()
        }
        func isBoundary(_ event: YAMLEvent) -> Bool { event.kind == .documentStart || event.kind == .streamEnd || event.kind == .failure }
        var builder = TreeBuilder(file: file, limits: limits)
        // The first part, built as it is parsed: all but its last four events, which must be
        // the end of the list, of the top-level mapping, of the document and of the stream.
        guard let producer = YAMLEventProducer(bytes: before, file: file, limits: limits) else { return nil }
        var held: YAMLEventChunk?
        var last: YAMLEventChunk?
        while true {
            let chunk = producer.next(YAMLReader.chunkSize)
            if chunk.isEmpty { break }
            if chunk.events.contains(where: { $0.kind == .failure }) { return nil }
            if let previous = held, builder.consume(previous) { return nil }
            held = chunk
            if chunk.events.last?.kind == .streamEnd {
                last = chunk
                held = nil
                break
            }
        }
        guard var last, last.events.count >= 4 else { return nil }
        let ending = Array(last.events.suffix(4))
        guard ending.map(\.kind) == [.collectionEnd, .collectionEnd, .ignored, .streamEnd] else { return nil }
        last.events.removeLast(4)
        if !last.events.isEmpty, builder.consume(last) { return nil }
        // The list's items: its events but the stream's and document's start and the list's
        // own (at the list's column, no anchor or tag) and, at the end, the list's, the
        // document's and the stream's end.
        var isFirst = true
        var heldItems: YAMLEventChunk?
        var lastItems: YAMLEventChunk?
        while var chunk = queue.take() {
            if isFirst {
                guard chunk.events.count >= 3, chunk.events.prefix(3).map(\.kind) == [.ignored, .documentStart, .sequenceStart],
                      Int(chunk.events[2].column) == plan.indent + 1, chunk.events[2].extras == nil else { return nil }
                chunk.events.removeFirst(3)
                isFirst = false
            }
            if let previous = heldItems {
                if previous.events.contains(where: isBoundary) || builder.consume(previous) { return nil }
            }
            heldItems = chunk
            if let kind = chunk.events.last?.kind, kind == .streamEnd || kind == .failure {
                lastItems = chunk
                heldItems = nil
                break
            }
        }
        guard var lastItems, lastItems.events.count >= 3,
              lastItems.events.suffix(3).map(\.kind) == [.collectionEnd, .ignored, .streamEnd] else { return nil }
        lastItems.events.removeLast(3)
        if lastItems.events.contains(where: isBoundary) { return nil }
        if !lastItems.events.isEmpty, builder.consume(lastItems) { return nil }
        if builder.consume(YAMLEventChunk(events: [ending[0]], bytes: [])) { return nil }
        // What follows the list: nothing (blank lines and comments) or one mapping at column 0.
        join()
        if !pieces.restBytes.isEmpty {
            guard let parsed = pieces.rest else { return nil }
            if parsed.flatMap(\.events).map(\.kind) != [.ignored, .streamEnd] {
                guard let pairs = inner(parsed, root: .mappingStart, column: 0) else { return nil }
                for chunk in pairs where builder.consume(chunk) { return nil }
            }
        }
        guard builder.consume(YAMLEventChunk(events: Array(ending[1...]), bytes: [])) else { return nil }
        let output = builder.output()
        guard output.root != nil, output.diagnostics.isEmpty else { return nil }
        return output
    }

    /// The second thread's pieces of the file (valid until `read` returns, which waits for the
    /// thread) and what it makes of them (read after it signalled).
    private final class PiecesWork: @unchecked Sendable {
        let listBytes: UnsafeBufferPointer<UInt8>
        let restBytes: UnsafeBufferPointer<UInt8>
        var rest: [YAMLEventChunk]?

        init(list: UnsafeBufferPointer<UInt8>, rest: UnsafeBufferPointer<UInt8>) {
            listBytes = list
            restBytes = rest
        }
    }
}
