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

/// A step of the pipeline. A 10,000-step pipeline copies steps often (into the flat step
/// list, the graph, validation): the fields live in one shared, copy-on-write box so a copy
/// is a single reference count, not one per field.
public struct Step: Sendable {
    private final class Storage: @unchecked Sendable {
        var name: Located<String>
        var section: StepSection
        var description: String?
        var run: Located<String>
        var shell: Shell?
        var workdir: Located<String>?
        var env: [EnvironmentEntry]
        var needs: [Located<String>]
        var condition: ParsedExpression?
        var forEach: ForEach?
        var timeout: Located<Duration>?
        var retry: Located<RetryPolicy>?
        var errors: [ErrorClass]
        var errorCode: Located<String>?
        var outputs: [Located<String>]
        var isCommitPoint: Bool
        var continuesOnError: Bool
        var allowsPartial: Bool
        var location: SourceLocation

        init(name: Located<String>, section: StepSection, run: Located<String>, location: SourceLocation) {
            self.name = name
            self.section = section
            self.run = run
            self.location = location
            self.description = nil
            self.shell = nil
            self.workdir = nil
            self.env = []
            self.needs = []
            self.condition = nil
            self.forEach = nil
            self.timeout = nil
            self.retry = nil
            self.errors = []
            self.errorCode = nil
            self.outputs = []
            self.isCommitPoint = false
            self.continuesOnError = false
            self.allowsPartial = false
        }

        func copy() -> Storage {
            let c = Storage(name: name, section: section, run: run, location: location)
            c.description = description
            c.shell = shell
            c.workdir = workdir
            c.env = env
            c.needs = needs
            c.condition = condition
            c.forEach = forEach
            c.timeout = timeout
            c.retry = retry
            c.errors = errors
            c.errorCode = errorCode
            c.outputs = outputs
            c.isCommitPoint = isCommitPoint
            c.continuesOnError = continuesOnError
            c.allowsPartial = allowsPartial
            return c
        }
    }

    private var storage: Storage

    public init(name: Located<String>, section: StepSection, run: Located<String>, location: SourceLocation) {
        storage = Storage(name: name, section: section, run: run, location: location)
    }

    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    public var name: Located<String> {
        get { storage.name }
        set { unique().name = newValue }
    }

    public var section: StepSection {
        get { storage.section }
        set { unique().section = newValue }
    }

    public var description: String? {
        get { storage.description }
        set { unique().description = newValue }
    }

    public var run: Located<String> {
        get { storage.run }
        set { unique().run = newValue }
    }

    public var shell: Shell? {
        get { storage.shell }
        set { unique().shell = newValue }
    }

    public var workdir: Located<String>? {
        get { storage.workdir }
        set { unique().workdir = newValue }
    }

    public var env: [EnvironmentEntry] {
        get { storage.env }
        set { unique().env = newValue }
    }

    public var needs: [Located<String>] {
        get { storage.needs }
        set { unique().needs = newValue }
    }

    public var condition: ParsedExpression? {
        get { storage.condition }
        set { unique().condition = newValue }
    }

    public var forEach: ForEach? {
        get { storage.forEach }
        set { unique().forEach = newValue }
    }

    public var timeout: Located<Duration>? {
        get { storage.timeout }
        set { unique().timeout = newValue }
    }

    public var retry: Located<RetryPolicy>? {
        get { storage.retry }
        set { unique().retry = newValue }
    }

    public var errors: [ErrorClass] {
        get { storage.errors }
        set { unique().errors = newValue }
    }

    public var errorCode: Located<String>? {
        get { storage.errorCode }
        set { unique().errorCode = newValue }
    }

    public var outputs: [Located<String>] {
        get { storage.outputs }
        set { unique().outputs = newValue }
    }

    public var isCommitPoint: Bool {
        get { storage.isCommitPoint }
        set { unique().isCommitPoint = newValue }
    }

    public var continuesOnError: Bool {
        get { storage.continuesOnError }
        set { unique().continuesOnError = newValue }
    }

    public var allowsPartial: Bool {
        get { storage.allowsPartial }
        set { unique().allowsPartial = newValue }
    }

    public var location: SourceLocation {
        get { storage.location }
        set { unique().location = newValue }
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
