/// One route of a contract: `{method: GET, path: "/api/br/status/{type=backup}/{jobId}",
/// operation: show, response: {...}}`.
public struct ContractRoute: Sendable {
    public var method: Located<String>
    public var path: Located<String>
    public var segments: [PathSegment]
    public var operation: Located<ContractOperation>
    /// The success status (default: 202 for a launch and a retry, 200 otherwise).
    public var status: Located<Int>?
    /// Where each param of a launch comes from (default for a launch without it: every key
    /// of a flat JSON object body is the param of that name).
    public var params: [(name: Located<String>, source: Located<RequestSource>)] = []
    /// What a body field no mapping reads is: refused (`bad_request`, the default) or ignored.
    public var unknownFields: UnknownFields = .reject
    /// The success body; nil: the runner's own shape for the operation.
    public var response: ContractTemplate?
    /// A cancel answers once the run has finished, or after this long (default 10s).
    public var cancelWait: Located<Duration>?
    public var location: SourceLocation

    public init(method: Located<String>, path: Located<String>, segments: [PathSegment],
                operation: Located<ContractOperation>, location: SourceLocation) {
        self.method = method
        self.path = path
        self.segments = segments
        self.operation = operation
        self.location = location
    }

    public enum UnknownFields: String, CaseIterable, Sendable {
        case reject, ignore
    }

    public var successStatus: Int {
        status?.value ?? (operation.value == .launch || operation.value == .retry ? 202 : 200)
    }

    /// The path parameters, selectors included, in order.
    public var parameterNames: [String] {
        segments.compactMap {
            switch $0 {
            case .literal: nil
            case .parameter(let name), .selector(let name, _): name
            }
        }
    }

    /// The path parameter that names the run (show, cancel, retry): the one that is neither
    /// a selector nor mapped to a param.
    public var runParameter: String? {
        let mapped = Set(params.compactMap { if case .path(let name) = $0.source.value { name } else { nil } })
        return segments.lazy.compactMap { if case .parameter(let name) = $0 { name } else { nil } }
            .first { !mapped.contains($0) }
    }

    /// The selector of the path (`{type=backup}`), if any.
    public var selector: (name: String, value: String)? {
        for segment in segments { if case .selector(let name, let value) = segment { return (name, value) } }
        return nil
    }
}

public enum ContractOperation: String, CaseIterable, Sendable {
    /// Launch a run of the pipeline from the request.
    case launch
    /// One run of the pipeline (its id in the path).
    case show
    /// The runs of the pipeline, newest first (`limit` query, default 50, at most 1000).
    case list
    /// Cancel a run; answers when it has finished or after `cancel_wait`.
    case cancel
    /// A new run of a finished one, from its first step that did not succeed.
    case retry
}

/// A segment of a route's path: `api`, `{jobId}`, or `{type=backup}` — a selector, which
/// several pipelines declare with their own value: one route whose value picks the pipeline,
/// an unknown value being the contract's `bad_request`.
public enum PathSegment: Hashable, Sendable {
    case literal(String)
    case parameter(String)
    case selector(name: String, value: String)

    /// What two routes taking the same requests share: parameters whatever their names,
    /// selectors by their value.
    public var shape: String {
        switch self {
        case .literal(let text): text
        case .parameter: "{}"
        case .selector(_, let value): "{=\(value)}"
        }
    }

    /// The segment as the router matches it: selectors are parameters there.
    public var routePattern: String {
        switch self {
        case .literal(let text): text
        case .parameter(let name), .selector(let name, _): "{\(name)}"
        }
    }
}

/// Where a launch param's value comes from.
public enum RequestSource: Hashable, Sendable {
    /// A JSON body path: `body.source.app.id`, `body.targets[*].app.id` (one value per item).
    case body([BodyPathStep])
    case path(String)
    case query(String)

    public var description: String {
        switch self {
        case .body(let steps): "body" + steps.map(\.description).joined()
        case .path(let name): "path.\(name)"
        case .query(let name): "query.\(name)"
        }
    }
}

public enum BodyPathStep: Hashable, Sendable {
    case key(String)
    /// `[*]`: every item of a list.
    case each

    public var description: String {
        switch self {
        case .key(let k): ".\(k)"
        case .each: "[*]"
        }
    }
}

/// A response or error body: a YAML object whose leaves are expressions, lists, loops
/// (`{for_each: steps, only: [a, b], item: {...}}`) and choices (`{if: c, then: {...}, else: null}`).
public indirect enum ContractTemplate: Sendable {
    case value(ParsedExpression)
    case object([(key: String, value: ContractTemplate)])
    case array([ContractTemplate])
    case each(ContractLoop)
    /// `{if: CONDITION, then: T, else: T}`: a whole object (or list) or another, where an
    /// expression can only choose a value (Heroku's `release: {id} | null`); no `else`: `null`.
    case choice(condition: ParsedExpression, then: ContractTemplate, otherwise: ContractTemplate?)
}

/// `{for_each: runs | steps | steps.NAME, only: [STEP, ...], item: TEMPLATE}`.
public struct ContractLoop: Sendable {
    public enum Source: Hashable, Sendable {
        /// The runs of a list operation; the item reads `run.*`, `params.*`.
        case runs
        /// The run's step records (for_each instances each), in order; the item reads `step.*`.
        case steps
        /// The instances of one step (one record unless it has `for_each`); `step.*`.
        case instances(String)
    }

    public var source: Located<Source>
    /// Only the records of these steps (for `steps`).
    public var only: [Located<String>] = []
    public var item: ContractTemplate
    public var location: SourceLocation

    public init(source: Located<Source>, item: ContractTemplate, location: SourceLocation) {
        self.source = source
        self.item = item
        self.location = location
    }
}
