import RunnerCore

/// The DAG as Mermaid, Graphviz dot or indented text. Stage barriers are drawn as one edge
/// between stages, never as every pair of steps.
struct GraphRenderer {
    enum Format: String, CaseIterable {
        case mermaid, dot, text
    }

    let validated: ValidatedPipeline

    private var pipeline: Pipeline { validated.pipeline }
    private var graph: PipelineGraph { validated.graph }

    func render(_ format: Format) -> String {
        switch format {
        case .mermaid: mermaid()
        case .dot: dot()
        case .text: text()
        }
    }

    private struct Cluster {
        var id: String
        var title: String
        var members: [Int]
    }

    private var clusters: [Cluster] {
        var result = pipeline.stages.enumerated().map { i, stage in
            Cluster(id: "stage_\(i)", title: pipeline.usesStepsShorthand ? "steps" : "stage \(stage.name.value)",
                    members: graph.stageMembers[i])
        }
        let rollback = graph.nodes.indices.filter { graph.nodes[$0].section == .rollback }
        let finally = graph.nodes.indices.filter { graph.nodes[$0].section == .finally }
        if !rollback.isEmpty { result.append(Cluster(id: "rollback", title: "rollback", members: rollback)) }
        if !finally.isEmpty { result.append(Cluster(id: "finally", title: "finally", members: finally)) }
        return result
    }

    private func label(_ index: Int) -> String {
        let step = validated.steps[index]
        var text = step.name.value
        if step.forEach != nil { text += " ×each" }
        if step.condition != nil { text += " ?if" }
        if step.isCommitPoint { text += " ◆commit" }
        return text
    }

    // MARK: Mermaid

    private func mermaid() -> String {
        var out = "flowchart TD\n"
        for c in clusters {
            out += "  subgraph \(c.id)[\"\(mermaidEscape(c.title))\"]\n"
            for m in c.members { out += "    n\(m)[\"\(mermaidEscape(label(m)))\"]\n" }
            out += "  end\n"
        }
        for (i, node) in graph.nodes.enumerated() {
            for need in node.needs { out += "  n\(need) --> n\(i)\n" }
        }
        let stages = clusters.filter { $0.id.hasPrefix("stage_") && !$0.members.isEmpty }
        for (a, b) in zip(stages, stages.dropFirst()) { out += "  \(a.id) --> \(b.id)\n" }
        let mainIDs = stages.map(\.id)
        if let last = mainIDs.last, clusters.contains(where: { $0.id == "rollback" }) {
            out += "  \(last) -. \"failure after commit point\" .-> rollback\n"
        }
        if clusters.contains(where: { $0.id == "finally" }) {
            let from = clusters.contains(where: { $0.id == "rollback" }) ? "rollback" : (mainIDs.last ?? "")
            if !from.isEmpty { out += "  \(from) -. always .-> finally\n" }
        }
        return out
    }

    private func mermaidEscape(_ s: String) -> String {
        s.replacing("\"", with: "#quot;")
    }

    // MARK: Dot

    private func dot() -> String {
        var out = "digraph \(dotQuote(pipeline.name.value)) {\n  rankdir=LR;\n  compound=true;\n  node [shape=box, fontname=\"Helvetica\"];\n"
        for c in clusters {
            out += "  subgraph cluster_\(c.id) {\n    label=\(dotQuote(c.title));\n"
            if c.members.isEmpty { out += "    \(c.id)_empty [shape=point, style=invis];\n" }
            for m in c.members {
                let step = validated.steps[m]
                var attributes = "label=\(dotQuote(label(m)))"
                if step.condition != nil { attributes += ", style=dashed" }
                if step.isCommitPoint { attributes += ", penwidth=2" }
                out += "    n\(m) [\(attributes)];\n"
            }
            out += "  }\n"
        }
        for (i, node) in graph.nodes.enumerated() {
            for need in node.needs { out += "  n\(need) -> n\(i);\n" }
        }
        let stages = clusters.filter { $0.id.hasPrefix("stage_") && !$0.members.isEmpty }
        for (a, b) in zip(stages, stages.dropFirst()) {
            let tail = a.members.last!, head = b.members.first!
            out += "  n\(tail) -> n\(head) [ltail=cluster_\(a.id), lhead=cluster_\(b.id), style=bold];\n"
        }
        if let last = stages.last?.members.last, let rollback = clusters.first(where: { $0.id == "rollback" })?.members.first {
            out += "  n\(last) -> n\(rollback) [lhead=cluster_rollback, style=dotted, label=\"failure after commit point\"];\n"
        }
        out += "}\n"
        return out
    }

    private func dotQuote(_ s: String) -> String {
        "\"" + s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }

    // MARK: Text

    private func text() -> String {
        var out = "\(pipeline.name.value)\n"
        for (n, c) in clusters.enumerated() {
            let connector = n == clusters.count - 1 ? "└─" : "├─"
            let indent = n == clusters.count - 1 ? "   " : "│  "
            out += "\(connector) \(c.title)\n"
            for (k, m) in c.members.enumerated() {
                let needs = graph.nodes[m].needs.map { graph.nodes[$0].name }
                let branch = k == c.members.count - 1 ? "└─" : "├─"
                out += "\(indent)\(branch) \(label(m))\(needs.isEmpty ? "" : "  ← " + needs.joined(separator: ", "))\n"
            }
        }
        return out
    }
}
