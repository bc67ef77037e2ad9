/// What an expression may read, where it is written.
public struct ExpressionScope {
    public struct StepInfo {
        public var outputs: [String]
        public var isForEach: Bool
        public init(outputs: [String], isForEach: Bool) {
            self.outputs = outputs
            self.isForEach = isForEach
        }
    }

    public var params: [String: ParamSpec]
    /// Nil where `steps.X` may not be read at all (`for_each`, `concurrency.key`).
    public var steps: ((String) -> StepInfo?)?
    public var stepNames: [String]
    /// Whether the step that owns the expression may read `steps.X` (depends on X).
    public var canRead: (String) -> Bool
    public var allowsEnv: Bool
    /// "the `if` of step 'deploy'": used in messages.
    public var owner: String
    /// The type of each field path (`["run", "id"]`) the scope offers, nil for one it does not.
    /// Nil where no field may be read: a field path is then an unknown name, as before fields.
    public var fields: (([String]) -> ExpressionType?)?
    /// The fields offered, dotted (`run.id`), for "did you mean" and the hint that lists them.
    public var fieldNames: [String]

    public init(params: [String: ParamSpec], steps: ((String) -> StepInfo?)?, stepNames: [String] = [],
                canRead: @escaping (String) -> Bool = { _ in true }, allowsEnv: Bool, owner: String,
                fields: (([String]) -> ExpressionType?)? = nil, fieldNames: [String] = []) {
        self.params = params
        self.steps = steps
        self.stepNames = stepNames
        self.canRead = canRead
        self.allowsEnv = allowsEnv
        self.owner = owner
        self.fields = fields
        self.fieldNames = fieldNames
    }
}
