@testable import RunnerCore

/// Builds pipelines in code for core tests, which must not depend on the YAML layer.
enum Make {
    static let file = "test.yaml"

    static func at(_ line: Int, _ column: Int = 1) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column)
    }

    static func step(_ name: String, needs: [String] = [], section: StepSection = .main(stage: 0), line: Int = 1,
                     outputs: [String] = [], condition: String? = nil) -> Step {
        var s = Step(name: Located(name, at: at(line, 11)), section: section, run: Located("true", at: at(line + 1)),
                     location: at(line, 5))
        s.needs = needs.map { Located($0, at: at(line + 2, 15)) }
        s.outputs = outputs.map { Located($0, at: at(line + 3, 15)) }
        if let condition {
            s.condition = try? ExpressionParser.parse(SourceText(condition, at: at(line + 4, 13))).get()
        }
        return s
    }

    /// Stages of steps; rollback and finally steps are given their sections.
    static func pipeline(_ stages: [[Step]], rollback: [Step] = [], finally: [Step] = [], params: [ParamSpec] = []) -> Pipeline {
        var p = Pipeline(file: file, location: at(1), version: Located(1, at: at(1, 10)), name: Located("test", at: at(2, 7)))
        p.stages = stages.enumerated().map { i, steps in
            Stage(name: Located("s\(i)", at: at(10 * i + 5)), steps: steps.map { var s = $0; s.section = .main(stage: i); return s })
        }
        p.rollback = rollback.map { var s = $0; s.section = .rollback; return s }
        p.finally = finally.map { var s = $0; s.section = .finally; return s }
        p.params = params
        return p
    }

    static func param(_ name: String, _ kind: ParamKind, required: Bool = false, error: String? = nil, default value: Value? = nil) -> ParamSpec {
        var spec = ParamSpec(name: Located(name, at: at(3, 3)), kind: kind, location: at(3, 10))
        spec.isRequired = required
        spec.errorCode = error.map { Located($0, at: at(3, 30)) }
        spec.defaultValue = value.map { Located($0, at: at(3, 40)) }
        return spec
    }
}
