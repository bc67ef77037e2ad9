/// Where a step belongs: the main DAG (in a stage), the rollback DAG or the finally DAG.
public enum StepSection: Hashable, Sendable, CustomStringConvertible {
    case main(stage: Int)
    case rollback
    case finally

    public var description: String {
        switch self {
        case .main: "main"
        case .rollback: "rollback"
        case .finally: "finally"
        }
    }

    public var isMain: Bool { if case .main = self { true } else { false } }
}

public struct Step: Sendable {
    public var name: Located<String>
    public var section: StepSection
    public var description: String?
    public var run: Located<String>
    public var shell: Shell?
    public var workdir: Located<String>?
    public var env: [EnvironmentEntry]
    public var needs: [Located<String>]
    public var condition: ParsedExpression?
    public var forEach: ForEach?
    public var timeout: Located<Duration>?
    public var retry: Located<RetryPolicy>?
    public var errors: [ErrorClass]
    public var errorCode: Located<String>?
    public var outputs: [Located<String>]
    public var isCommitPoint: Bool
    public var continuesOnError: Bool
    public var allowsPartial: Bool
    public var location: SourceLocation

    public init(name: Located<String>, section: StepSection, run: Located<String>, location: SourceLocation) {
        self.name = name
        self.section = section
        self.run = run
        self.env = []
        self.needs = []
        self.errors = []
        self.outputs = []
        self.isCommitPoint = false
        self.continuesOnError = false
        self.allowsPartial = false
        self.location = location
    }

    public var stepName: StepName { StepName(name.value) }

    public func declaresOutput(_ name: String) -> Bool { outputs.contains { $0.value == name } }
}

/// How a step's `run` text is executed: the argv the script is appended to.
public struct Shell: Hashable, Sendable, CustomStringConvertible {
    public var argv: [String]
    public var location: SourceLocation?

    public init(argv: [String], location: SourceLocation? = nil) {
        self.argv = argv
        self.location = location
    }

    /// `sh` → `["sh", "-c"]`; a list is taken as is.
    public init(program: String, location: SourceLocation? = nil) {
        self.init(argv: [program, "-c"], location: location)
    }

    public static let standard = Shell(argv: ["/bin/sh", "-c"])

    public var description: String { argv.joined(separator: " ") }
}

/// `for_each`: an expression evaluating to a list, or literal items.
public enum ForEach: Sendable {
    case expression(ParsedExpression)
    case items([Located<Value>])
}
