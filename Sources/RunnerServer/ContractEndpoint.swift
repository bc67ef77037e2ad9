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

    /// The path's segments before its first parameter (`/api/br/status`), nil for a path
    /// without parameters or one that starts with a parameter.
    var literalPrefix: String? {
        let segments = pattern.split(separator: "/")
        guard let first = segments.firstIndex(where: { $0.hasPrefix("{") }), first > 0 else { return nil }
        return "/" + segments[..<first].joined(separator: "/")
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
                let shape = route.segments.map(\.routeShape)
                guard let index = endpoints.firstIndex(where: {
                    $0.method == route.method.value && $0.pattern.split(separator: "/").map(Self.shape) == shape
                }) else {
                    endpoints.append(ContractEndpoint(method: route.method.value, pattern: pattern,
                                                      selector: route.selector?.name, entries: [item]))
                    continue
                }
                let other = endpoints[index]
                guard other.pattern == pattern, let selector = route.selector, other.selector == selector.name,
                      !other.entries.contains(where: { $0.route.selector?.value == selector.value }) else {
                    problems.append((entry.file, [clash(route, "pipeline '\(other.entries[0].pipeline)'")]))
                    continue
                }
                endpoints[index].entries.append(item)
            }
        }
        return endpoints
    }

    private static func shape(_ segment: Substring) -> String {
        segment.hasPrefix("{") ? "{}" : String(segment)
    }

    private static func clash(_ route: ContractRoute, _ other: String) -> Diagnostic {
        Diagnostic(.duplicateRoute, "route \(route.method.value) \(route.path.value) is also taken by \(other); not served",
                   at: route.path.location,
                   hint: "pipelines sharing a path each declare one selector value: {type=backup}, {type=restore}")
    }
}
