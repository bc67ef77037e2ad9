/// The root a `path` param is confined to, as written: text with `${VAR}` and
/// `${VAR:-default}` (the runner's environment when a run is launched) and `{actor}` (who
/// launches it). Parsed when the pipeline is loaded; expanded, without I/O, at each launch.
public struct PathRoot: Hashable, Sendable {
    public enum Part: Hashable, Sendable {
        case text(String)
        /// `${NAME}`, or `${NAME:-fallback}`: the fallback when NAME is unset or empty.
        case variable(name: String, fallback: String?)
        case actor
    }

    /// Why a root cannot be parsed, or expanded.
    public struct Problem: Error, Hashable, Sendable {
        public var message: String
        public var hint: String
    }

    public var source: String
    public var parts: [Part]

    public init(source: String, parts: [Part]) {
        self.source = source
        self.parts = parts
    }

    /// The pipeline's own folder: what a root the loader could not read stands for.
    public static let pipelineFolder = PathRoot(source: ".", parts: [.text(".")])

    public var namesActor: Bool { parts.contains(.actor) }

    /// The root as written, split into its parts.
    public static func parse(_ source: String) -> Result<PathRoot, Problem> {
        guard !source.isEmpty else {
            return .failure(Problem(message: "the root is empty", hint: "name the folder the paths are relative to"))
        }
        var parts: [Part] = []
        var rest = Substring(source)
        while !rest.isEmpty {
            if rest.hasPrefix("${") {
                switch variable(in: rest) {
                case .success(let (part, after)):
                    parts.append(part)
                    rest = after
                case .failure(let problem):
                    return .failure(problem)
                }
            } else if rest.hasPrefix("{actor}") {
                parts.append(.actor)
                rest = rest.dropFirst("{actor}".count)
            } else if rest.hasPrefix("{"), let close = rest.firstIndex(of: "}") {
                let name = rest[rest.index(after: rest.startIndex)..<close]
                return .failure(Problem(message: "unknown placeholder '{\(name)}' in the root",
                                        hint: "a root may name {actor}, ${VAR} and ${VAR:-default}"))
            } else {
                let end = rest.dropFirst().firstIndex { $0 == "$" || $0 == "{" } ?? rest.endIndex
                parts.append(.text(String(rest[..<end])))
                rest = rest[end...]
            }
        }
        return .success(PathRoot(source: source, parts: merged(parts)))
    }

    /// `${NAME}` or `${NAME:-fallback}` at the start of `text`, and what follows it.
    private static func variable(in text: Substring) -> Result<(Part, Substring), Problem> {
        let body = text.dropFirst(2)
        guard let close = body.firstIndex(of: "}") else {
            return .failure(Problem(message: "'${' in the root is not closed by '}'",
                                    hint: "write ${VAR} or ${VAR:-default}"))
        }
        let inside = body[..<close]
        let name: Substring, fallback: String?
        if let separator = inside.firstRange(of: ":-") {
            name = inside[..<separator.lowerBound]
            fallback = String(inside[separator.upperBound...])
        } else {
            name = inside
            fallback = nil
        }
        if fallback?.contains("{") == true {
            return .failure(Problem(message: "the default of '${\(name)...}' in the root holds '{'",
                                    hint: "a default is plain text: write {actor} after the '}'"))
        }
        guard NameRules.isIdentifier(String(name)) else {
            return .failure(Problem(message: "'${\(inside)}' in the root does not name a variable",
                                    hint: "write ${VAR} or ${VAR:-default}, VAR as [A-Za-z_][A-Za-z0-9_]*"))
        }
        return .success((.variable(name: String(name), fallback: fallback), body[body.index(after: close)...]))
    }

    /// Adjacent text parts joined.
    private static func merged(_ parts: [Part]) -> [Part] {
        parts.reduce(into: []) { out, part in
            if case .text(let next) = part, case .text(let previous)? = out.last {
                out[out.count - 1] = .text(previous + next)
            } else {
                out.append(part)
            }
        }
    }

    /// The root for one launch: variables from `environment`, `{actor}` the launch's actor,
    /// which must then be one safe folder name.
    public func expand(environment: [String: String], actor: String?) -> Result<String, Problem> {
        var out = ""
        for part in parts {
            switch part {
            case .text(let text):
                out += text
            case .variable(let name, let fallback):
                if let value = environment[name], !value.isEmpty {
                    out += value
                } else if let fallback {
                    out += fallback
                } else {
                    let message = "its root reads ${\(name)}, which is not set where the runner runs"
                    return .failure(Problem(message: message, hint: "set \(name) in the runner's environment, "
                                                + "or give a default: ${\(name):-DIR}"))
                }
            case .actor:
                guard let actor else {
                    return .failure(Problem(message: "its root names {actor}, and this launch has no actor",
                                            hint: "launch it with an API token: its name is the actor"))
                }
                guard Self.isSafeSegment(actor) else {
                    let message = "its root names {actor}, and the actor '\(actor)' cannot name a folder"
                    return .failure(Problem(message: message,
                                            hint: "an actor in a root is one name of [A-Za-z0-9._@:-], not '.' or '..'"))
                }
                out += actor
            }
        }
        return .success(out)
    }

    /// One folder name that cannot climb or split a path: `[A-Za-z0-9._@:-]+`, not `.` or `..`
    /// (`:` for the CLI's `cli:<user>`).
    public static func isSafeSegment(_ text: String) -> Bool {
        guard !text.isEmpty, text != ".", text != ".." else { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                               || "._@:-".unicodeScalars.contains(scalar))
        }
    }
}
