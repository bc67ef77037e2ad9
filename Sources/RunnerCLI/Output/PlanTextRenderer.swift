import RunnerCore

/// The human form of a plan.
struct PlanTextRenderer {
    let style: Style

    func render(_ plan: PlanModel) -> String {
        var out = style.bold(plan.pipeline) + (plan.description.map { " — \($0)" } ?? "") + "\n"
        out += style.dim("file: \(plan.file)") + "\n"
        if !plan.params.isEmpty {
            out += "\n" + style.bold("params") + "\n"
            let nameWidth = plan.params.map(\.name.count).max() ?? 0
            let typeWidth = plan.params.map(\.type.count).max() ?? 0
            for p in plan.params {
                var value = p.value.map(\.displayText) ?? "(unset)"
                if let sha = p.sha { value += " → " + sha }
                var line = "  \(pad(p.name, nameWidth))  \(pad(p.type, typeWidth))  \(value)"
                var notes: [String] = []
                if p.source != "unset" { notes.append(p.source) }
                if let code = p.errorCode { notes.append("invalid → \(code)") }
                if !notes.isEmpty { line += "  " + style.dim("(" + notes.joined(separator: "; ") + ")") }
                out += line + "\n"
            }
        }
        var header = ""
        if let c = plan.concurrency {
            header += "\(style.bold("concurrency"))  group '\(c.group)'\(c.key.map { " + key \($0)" } ?? ""), on conflict: \(c.onConflict) (\(c.errorCode))\n"
        }
        if let i = plan.idempotency { header += "\(style.bold("idempotency"))  \(i)\n" }
        if let api = plan.triggers.apiPath { header += "\(style.bold("api"))          POST \(api)\n" }
        for s in plan.triggers.schedules {
            header += "\(style.bold("schedule"))     \(s.cron) (\(s.timezone))\(s.next.map { ", next \($0)" } ?? "")\n"
        }
        if let git = plan.triggers.git { header += "\(style.bold("git"))          \(git)\n" }
        if let workspace = plan.workspace { header += "\(style.bold("workspace"))    \(workspace)\n" }
        if !header.isEmpty { out += "\n" + header }
        out += section("main", plan.main)
        if !plan.rollback.isEmpty {
            let after = plan.commitPoints.isEmpty ? "" : " after commit point " + plan.commitPoints.map { "'\($0)'" }.joined(separator: ", ")
            out += section("rollback", plan.rollback, note: "runs when a step fails\(after)")
        }
        if !plan.finally.isEmpty { out += section("finally", plan.finally, note: "always runs last") }
        return out
    }

    private func section(_ title: String, _ steps: [PlanModel.Step], note: String? = nil) -> String {
        let waves = Set(steps.map(\.wave)).count
        var out = "\n" + style.bold("\(title): \(steps.count) step\(steps.count == 1 ? "" : "s") in \(waves) wave\(waves == 1 ? "" : "s")")
        if let note { out += style.dim(" — \(note)") }
        out += "\n"
        var currentWave = 0
        for step in steps {
            if step.wave != currentWave {
                currentWave = step.wave
                out += "  " + style.dim("wave \(step.wave)") + "\n"
            }
            out += render(step)
        }
        return out
    }

    private func render(_ s: PlanModel.Step) -> String {
        var head = "    " + style.bold((s.stage.map { "\($0)/" } ?? "") + s.name)
        var after = s.needs
        if let stage = s.afterStage { after.append("stage \(stage)") }
        if !after.isEmpty { head += style.dim("  after " + after.joined(separator: ", ")) }
        if s.commitPoint { head += "  " + style.yellow("commit point") }
        var out = head + "\n"
        let runLines = s.run.split(separator: "\n", omittingEmptySubsequences: true)
        let firstLine = runLines.first.map(String.init) ?? ""
        out += row("run", firstLine + (runLines.count > 1 ? style.dim("  (+\(runLines.count - 1) lines)") : ""))
        if s.shell != ["/bin/sh", "-c"] { out += row("shell", s.shell.joined(separator: " ")) }
        if let workdir = s.workdir { out += row("workdir", workdir) }
        if let condition = s.condition {
            let verdict: String
            switch s.conditionValue {
            case true?: verdict = style.green("true: runs")
            case false?: verdict = style.yellow("false: skipped")
            case nil: verdict = "decided at run time"
            }
            out += row("if", "\(condition)  " + style.dim("(") + verdict + style.dim(")"))
        }
        if let forEach = s.forEach {
            out += row("for each", forEach + (s.instances.map { " → " + ($0.isEmpty ? "no instances" : $0.joined(separator: ", ")) } ?? ""))
        }
        out += row("timeout", (s.timeout ?? "none") + "   " + style.bold("retry") + " " + s.retry)
        for (i, e) in s.errors.enumerated() {
            let retry = e.retry == s.retry ? "" : style.dim("  retry \(e.retry)")
            out += row(i == 0 ? "errors" : "", "\(e.match) → \(e.code)" + retry)
        }
        var flags: [String] = []
        if !s.outputs.isEmpty { flags.append("outputs " + s.outputs.joined(separator: ", ")) }
        if s.continueOnError { flags.append("continue_on_error") }
        if s.allowPartial { flags.append("allow_partial") }
        if !flags.isEmpty { out += row("", style.dim(flags.joined(separator: " · "))) }
        return out
    }

    private func row(_ label: String, _ value: String) -> String {
        "        " + style.dim(pad(label, 8)) + " " + value + "\n"
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(0, width - s.count))
    }
}
