import FoundationEssentials
import RunnerContract
import RunnerCore
import RunnerEngine

/// One method and path of the served contracts, and the pipelines behind it: one, or several
/// that share the path through a selector (`/api/br/status/{type=backup}/{jobId}` and
/// `{type=restore}`), the request's value picking the pipeline.
struct ContractEndpoint: Sendable {
    struct Entry: Sendable {
        var pipeline: String
        var route: ContractRoute
        var contract: APIContract
        var renderer: ContractRenderer
    }

    var method: String
    var pattern: String
    var selector: String?
    var entries: [Entry]

    /// The entry the request's path selects; nil for a selector value no pipeline declares.
    func entry(_ captures: [String: String]) -> Entry? {
        guard let selector else { return entries.first }
        return entries.first { $0.route.selector?.value == captures[selector] }
    }

    /// The literal segments its path starts with (`/pipeline-promotions/{id}` → `pipeline-promotions`),
    /// under which a request no route takes is answered in the contract's shape; nil when there
    /// are none, or when they also lead to the runner's own API (`/api/{x}`).
    var fallbackPrefix: [Substring]? {
        let prefix = Array(pattern.split(separator: "/").prefix { !$0.hasPrefix("{") })
        let path = "/" + prefix.joined(separator: "/")
        let reserved = PipelineValidator.reservedPrefixes
        guard !prefix.isEmpty, !reserved.contains(where: { $0 == path || $0.hasPrefix(path + "/") }) else { return nil }
        return prefix
    }

    /// The entry a request no route takes was meant for, and its captures: a route of the
    /// request's method whose segments match the path's when its last segment, a parameter,
    /// takes the rest of the path (`/api/br/status/{type}/{jobId}` for
    /// `/api/br/status/backup/a/b`: jobId `a/b`).
    static func loose(_ request: HTTPRequest, in endpoints: [ContractEndpoint]) -> (Entry, [String: String])? {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for endpoint in endpoints where endpoint.method == request.method {
            let segments = endpoint.pattern.split(separator: "/")
            guard let last = segments.last, last.hasPrefix("{"), parts.count > segments.count else { continue }
            let head = Array(parts.prefix(segments.count - 1))
            let rest = parts.dropFirst(segments.count - 1).joined(separator: "/")
            guard var captures = Router.captures(Array(segments.dropLast()), head) else { continue }
            captures[String(last.dropFirst().dropLast())] = rest
            if let entry = endpoint.entry(captures) { return (entry, captures) }
        }
        return nil
    }

    /// Who may call it: viewers read, operators launch, cancel and retry.
    var access: Router.Access {
        switch entries.first?.route.operation.value {
        case .show, .list: .role(.viewer)
        default: .role(.operator)
        }
    }

    /// The endpoints of the loaded pipelines' contracts. Two pipelines taking one method and
    /// path without distinct selector values, or a path an alias route takes: the later
    /// pipeline's route is left out, with a diagnostic for its file.
    static func endpoints(of loaded: [String: LoadedPipeline], aliases: [(path: String, pipeline: String)],
                          problems: inout [(String, [Diagnostic])]) -> [ContractEndpoint] {
        var endpoints: [ContractEndpoint] = []
        let taken = Set(aliases.flatMap { ["POST \($0.path)", "GET \($0.path)/{id}"] })
        for (name, entry) in loaded.sorted(by: { $0.key < $1.key }) {
            guard let contract = entry.pipeline.pipeline.contract else { continue }
            let renderer = ContractRenderer(contract: contract)
            for route in contract.routes {
                let pattern = "/" + route.segments.map(\.routePattern).joined(separator: "/")
                let item = Entry(pipeline: name, route: route, contract: contract, renderer: renderer)
                if taken.contains("\(route.method.value) \(pattern)") {
                    problems.append((entry.file, [clash(route, "a pipeline's triggers.api route")]))
                    continue
                }
                guard let index = endpoints.firstIndex(where: { $0.method == route.method.value && $0.pattern == pattern })
                else {
                    endpoints.append(ContractEndpoint(method: route.method.value, pattern: pattern,
                                                      selector: route.selector?.name, entries: [item]))
                    continue
                }
                let other = endpoints[index]
                guard let selector = route.selector, other.selector == selector.name,
                      !other.entries.contains(where: { $0.route.selector?.value == selector.value }) else {
                    problems.append((entry.file, [clash(route, "pipeline '\(other.entries[0].pipeline)'")]))
                    continue
                }
                endpoints[index].entries.append(item)
            }
        }
        return endpoints
    }

    private static func clash(_ route: ContractRoute, _ other: String) -> Diagnostic {
        Diagnostic(.duplicateRoute, "route \(route.method.value) \(route.path.value) is also taken by \(other); not served",
                   at: route.path.location,
                   hint: "pipelines sharing a path each declare one selector value: {type=backup}, {type=restore}")
    }
}
