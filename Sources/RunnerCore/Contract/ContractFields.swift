/// The fields a contract template reads, and their types: what `PipelineValidator` checks a
/// template against and what `RunnerContract` fills in when it renders one. Timestamps are
/// strings written in the contract's `time_format`; a field without a value is `null`.
public enum ContractFields {
    /// Where a template is written: what it may read besides `params.*` and `steps.*`.
    public struct Place: Sendable {
        /// The route's path parameters (`request.path.NAME`); nil: any name (error bodies).
        public var pathParameters: [String]?
        public var readsError: Bool
        /// Inside a `for_each: steps` loop: `step.*`.
        public var readsStep: Bool

        public init(pathParameters: [String]?, readsError: Bool, readsStep: Bool = false) {
            self.pathParameters = pathParameters
            self.readsError = readsError
            self.readsStep = readsStep
        }
    }

    public static let run: [(name: String, type: ExpressionType)] = [
        ("id", .string), ("pipeline", .string), ("status", .string), ("state", .string), ("trigger", .string),
        ("actor", .string), ("created_at", .string), ("started_at", .string), ("finished_at", .string),
        ("updated_at", .string), ("error_code", .string), ("error_message", .string), ("retryable", .bool),
        ("progress", .number), ("progress_message", .string),
    ]

    public static let step: [(name: String, type: ExpressionType)] = [
        ("id", .string), ("name", .string), ("step", .string), ("item", .string), ("section", .string),
        ("status", .string), ("state", .string), ("attempts", .number), ("error_code", .string),
        ("error_message", .string), ("progress", .number), ("progress_message", .string), ("started_at", .string),
        ("finished_at", .string),
    ]

    /// What `steps.NAME.FIELD` reads beyond `status` and `outputs.Y`.
    public static let stepByName: [(name: String, type: ExpressionType)] = [
        ("progress", .number), ("progress_message", .string), ("error_code", .string), ("error_message", .string),
        ("started_at", .string), ("finished_at", .string), ("attempts", .number),
    ]

    public static let error: [(name: String, type: ExpressionType)] = [
        ("code", .string), ("message", .string), ("status", .number), ("param", .string),
    ]

    public static let request: [(name: String, type: ExpressionType)] = [("actor", .string), ("method", .string)]

    /// The type of `path` (split at dots) in `place`, nil when it names nothing there.
    public static func type(of path: [String], in place: Place, stepNames: Set<String>) -> ExpressionType? {
        guard let root = path.first else { return nil }
        switch (root, path.count) {
        case ("run", 2): return lookup(run, path[1])
        case ("request", 2): return lookup(request, path[1])
        case ("request", 3) where path[1] == "path":
            return place.pathParameters.map { $0.contains(path[2]) } ?? true ? .string : nil
        case ("error", 2) where place.readsError: return lookup(error, path[1])
        case ("step", 2) where place.readsStep: return lookup(step, path[1])
        case ("step", 3) where place.readsStep && path[1] == "outputs": return .string
        case ("steps", 3) where stepNames.contains(path[1]): return lookup(stepByName, path[2])
        default: return nil
        }
    }

    /// Every name `place` offers, for suggestions.
    public static func names(in place: Place) -> [String] {
        var names = run.map { "run.\($0.name)" } + request.map { "request.\($0.name)" }
        names += (place.pathParameters ?? []).map { "request.path.\($0)" }
        if place.readsError { names += error.map { "error.\($0.name)" } }
        if place.readsStep { names += step.map { "step.\($0.name)" } + ["step.outputs.NAME"] }
        return names
    }

    private static func lookup(_ table: [(name: String, type: ExpressionType)], _ name: String) -> ExpressionType? {
        table.first { $0.name == name }?.type
    }
}
