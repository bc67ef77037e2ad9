import FoundationEssentials
import RunnerCore
import RunnerYAML

/// Renders diagnostics as compilers do: `file:line:col: error[CODE]: message`, the source
/// line with a caret under the problem, the hint, and notes.
struct DiagnosticRenderer {
    let style: Style
    private let sources = SourceCache()

    init(colors: Bool) { style = Style(enabled: colors) }

    /// Uses `text` for code frames of `file` instead of reading it (golden tests, the server).
    func register(_ file: String, text: String) { sources.register(file, text: text) }

    func render(_ d: Diagnostic) -> String {
        let severity = d.severity == .error ? style.red("error[\(d.displayCode)]") : style.yellow("warning[\(d.displayCode)]")
        var out: String
        if let location = d.location {
            out = "\(style.bold(location.description)): \(severity): \(d.message)\n"
            out += frame(at: location, length: d.length)
        } else if let subject = d.subject {
            out = "\(style.bold(subject)): \(severity): \(d.message)\n"
        } else {
            out = "runner: \(severity): \(d.message)\n"
        }
        if d.contractCode != nil { out += "  \(style.dim("(runner code \(d.code.rawValue))"))\n" }
        if let hint = d.hint { out += "  \(style.cyan("hint")): \(hint)\n" }
        for note in d.notes {
            if let location = note.location {
                out += "  \(style.bold("note")): \(note.message) at \(location)\n"
            } else {
                out += "  \(style.bold("note")): \(note.message)\n"
            }
        }
        return out
    }

    private func frame(at location: SourceLocation, length: Int) -> String {
        guard let line = sources.line(location.line, of: location.file) else { return "" }
        let scalars = Array(line.unicodeScalars.map { $0 == "\t" ? " " : $0 })
        // Long lines (a 10 MB scalar) are cut to a window around the column.
        let column = min(max(location.column - 1, 0), scalars.count)
        let start = max(0, column - 60)
        let end = min(scalars.count, column + 100)
        var shown = String(String.UnicodeScalarView(scalars[start..<end]))
        if start > 0 { shown = "…" + shown }
        if end < scalars.count { shown += "…" }
        let prefix = (start > 0 ? 1 : 0) + Self.displayWidth(scalars[start..<column])
        let caretCount = max(1, min(length, max(1, end - column)))
        let caretWidth = max(1, Self.displayWidth(scalars[column..<min(end, column + caretCount)]))
        let number = String(location.line)
        let gutter = String(repeating: " ", count: number.count)
        return "  \(style.dim(number + " |")) \(shown)\n"
            + "  \(style.dim(gutter + " |")) \(String(repeating: " ", count: prefix))\(style.red(String(repeating: "^", count: caretWidth)))\n"
    }

    /// Terminal columns taken by text: East Asian wide characters take two.
    static func displayWidth<S: Sequence>(_ scalars: S) -> Int where S.Element == Unicode.Scalar {
        scalars.reduce(0) { width, s in
            switch s.value {
            case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F,
                 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
                width + 2
            default:
                width + 1
            }
        }
    }
}

/// Source lines for code frames, read once per file.
final class SourceCache: @unchecked Sendable {
    private var files: [String: [Substring]?] = [:]
    private let lock = Lock()

    func register(_ file: String, text: String) {
        lock.lock()
        defer { lock.unlock() }
        files[file] = Self.lines(text)
    }

    /// Lines as YAML counts them: "\r\n" (one Character in Swift), "\n" and "\r" all break,
    /// and a byte-order mark is not part of the first line.
    static func lines(_ text: String) -> [Substring] {
        let body = text.hasPrefix("\u{FEFF}") ? text.dropFirst() : text[...]
        return body.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
    }

    func line(_ number: Int, of file: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        if files[file] == nil {
            // As the loader reads it: a FIFO or a file over the size bound gets no code frame.
            let text = try? PipelineLoader.readFile(file).map { String(decoding: $0, as: UTF8.self) }.get()
            files[file] = text.map(Self.lines)
        }
        guard let lines = files[file] ?? nil, number >= 1, number <= lines.count else { return nil }
        return String(lines[number - 1])
    }
}
