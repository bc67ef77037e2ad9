import FoundationEssentials
import RunnerCore

/// The routes of `api:` and their templates.
extension DecodingContext {
    static let contractMethods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    mutating func decodeRoute(_ node: YAMLNode) -> ContractRoute? {
        guard let f = fields(node, "a route of 'api.routes'", allowed: Self.routeKeys),
              let method = string(f, "method", "a route", required: true),
              let path = string(f, "path", "a route", required: true),
              let operationNode = require(f, "operation", "route \(path.value)"),
              let operation = choice(operationNode, "'operation' of route \(path.value)", as: ContractOperation.self)
        else { return nil }
        let what = "route \(method.value) \(path.value)"
        if !Self.contractMethods.contains(method.value) {
            report(.invalidContract, "\(what): method must be one of \(Self.contractMethods.joined(separator: ", "))",
                   at: method.location, length: max(1, method.value.count), hint: "methods are written in upper case")
        }
        guard let segments = pathSegments(path, what) else { return nil }
        var route = ContractRoute(method: method, path: path, segments: segments,
                                  operation: Located(operation, at: operationNode.location), location: node.location)
        route.status = httpStatus(f, what)
        if let params = f["params"] { route.params = requestMapping(params, what) }
        if let unknown = f["unknown_fields"] {
            route.unknownFields = choice(unknown, "'unknown_fields' of \(what)", as: ContractRoute.UnknownFields.self)
                ?? .reject
        }
        route.response = f["response"].flatMap { template($0, "the response of \(what)") }
        route.cancelWait = duration(f, "cancel_wait", what)
        return route
    }

    /// `/api/br/status/{type=backup}/{jobId}`: literal segments of URL-safe characters,
    /// `{name}` parameters and `{name=value}` selectors.
    private mutating func pathSegments(_ path: Located<String>, _ what: String) -> [PathSegment]? {
        let text = path.value
        guard text.hasPrefix("/"), text.count > 1, !text.hasSuffix("/") else {
            report(.invalidContract, "\(what): a path starts with '/' and does not end with one", at: path.location,
                   hint: "e.g. /api/jobs/{jobId}")
            return nil
        }
        var segments: [PathSegment] = []
        for part in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            if part.hasPrefix("{"), part.hasSuffix("}") {
                let inner = part.dropFirst().dropLast()
                let pieces = inner.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard let name = pieces.first, NameRules.isIdentifier(name),
                      pieces.count == 1 || Self.isLiteralSegment(pieces[1]) else {
                    report(.invalidContract, "\(what): '\(part)' is not a path parameter", at: path.location,
                           hint: "write {name} (letters, digits, _) or a selector {name=value}")
                    return nil
                }
                segments.append(pieces.count == 1 ? .parameter(name) : .selector(name: name, value: pieces[1]))
            } else if Self.isLiteralSegment(String(part)) {
                segments.append(.literal(String(part)))
            } else {
                report(.invalidContract, "\(what): segment '\(part)' may hold only [A-Za-z0-9._~-]", at: path.location,
                       hint: "each segment between slashes is a word or a {parameter}")
                return nil
            }
        }
        return segments
    }

    static func isLiteralSegment(_ text: String) -> Bool {
        !text.isEmpty && text != "." && text != ".."
            && text.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."z").contains($0)
                || ("A"..."Z").contains($0) || "._~-".unicodeScalars.contains($0) }
    }

    private mutating func requestMapping(_ node: YAMLNode, _ what: String)
        -> [(name: Located<String>, source: Located<RequestSource>)] {
        guard case .mapping(let pairs) = node.content else {
            wrongType(node, "'params' of \(what)", expected: "a mapping of PARAM: body.path | path.NAME | query.NAME")
            return []
        }
        return pairs.compactMap { pair in
            guard let text = string(pair.value, "the source of param '\(pair.name)'") else { return nil }
            guard let source = Self.requestSource(text.value) else {
                report(.invalidContract, "\(what): '\(text.value)' is not a request source", at: text.location,
                       length: max(1, text.value.count),
                       hint: "body.FIELD (nested: body.source.app.id; every item of a list: body.targets[*].app.id), "
                           + "path.NAME or query.NAME")
                return nil
            }
            return (Located(pair.name, at: pair.key.location), Located(source, at: text.location))
        }
    }

    static func requestSource(_ text: String) -> RequestSource? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let root = parts.first else { return nil }
        switch root {
        case "path", "query":
            guard parts.count == 2, NameRules.isIdentifier(parts[1]) else { return nil }
            return root == "path" ? .path(parts[1]) : .query(parts[1])
        case "body":
            var steps: [BodyPathStep] = []
            for part in parts.dropFirst() {
                var key = part
                var each = false
                if key.hasSuffix("[*]") {
                    key.removeLast(3)
                    each = true
                }
                guard !key.isEmpty, !key.contains("["), !key.contains("]") else { return nil }
                steps.append(.key(key))
                if each { steps.append(.each) }
            }
            return steps.isEmpty ? nil : .body(steps)
        default:
            return nil
        }
    }

    /// A response or error body: scalars are expressions (`run.id`, `"'backup'"`, `100`,
    /// `null`), mappings objects, lists arrays, and a mapping with `for_each` a loop.
    mutating func template(_ node: YAMLNode, _ what: String) -> ContractTemplate? {
        switch node.content {
        case .sequence(let items):
            return .array(items.compactMap { template($0, what) })
        case .mapping(let pairs):
            if pairs.contains(where: { $0.name == "for_each" }) { return loop(node, what).map(ContractTemplate.each) }
            if pairs.contains(where: { $0.name == "if" }) { return choice(node, what) }
            var members: [(key: String, value: ContractTemplate)] = []
            for pair in pairs {
                guard let value = template(pair.value, "'\(pair.name)' of \(what)") else { continue }
                members.append((pair.name, value))
            }
            return .object(members)
        case .scalar:
            if node.resolvedKind == .null, let source = node.sourceText {
                return .value(ParsedExpression(source: source, root: ExpressionNode(.literal(.null), offset: 0, length: 1)))
            }
            return expression(node, what).map(ContractTemplate.value)
        }
    }

    /// `{if: CONDITION, then: T, else: T}` (`else` left out: `null`).
    private mutating func choice(_ node: YAMLNode, _ what: String) -> ContractTemplate? {
        guard let f = fields(node, "a choice of \(what)", allowed: ["if", "then", "else"]),
              let conditionNode = f["if"], let condition = expression(conditionNode, "'if' of \(what)"),
              let thenNode = require(f, "then", "the choice of \(what)"),
              let then = template(thenNode, "'then' of \(what)") else { return nil }
        let otherwise = f["else"].flatMap { template($0, "'else' of \(what)") }
        return .choice(condition: condition, then: then, otherwise: otherwise)
    }

    private mutating func loop(_ node: YAMLNode, _ what: String) -> ContractLoop? {
        guard let f = fields(node, "a loop of \(what)", allowed: ["for_each", "only", "item"]),
              let sourceNode = f["for_each"], let sourceText = string(sourceNode, "'for_each' of \(what)"),
              let itemNode = require(f, "item", "the loop of \(what)"),
              let item = template(itemNode, "the item of \(what)") else { return nil }
        let source: ContractLoop.Source
        switch sourceText.value {
        case "runs": source = .runs
        case "steps": source = .steps
        case let text where text.hasPrefix("steps.") && !text.dropFirst(6).isEmpty:
            source = .instances(String(text.dropFirst(6)))
        default:
            report(.invalidContract, "'for_each' of \(what) takes runs, steps or steps.NAME, not '\(sourceText.value)'",
                   at: sourceNode.location, hint: "runs (a list route), steps (every step), steps.NAME (its instances)")
            return nil
        }
        var loop = ContractLoop(source: Located(source, at: sourceNode.location), item: item, location: node.location)
        if let only = f["only"] { loop.only = stringList(only, "'only' of \(what)") }
        return loop
    }
}
