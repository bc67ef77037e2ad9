/// A pipeline that passed validation, with its graph. Only this type reaches `plan`, `graph`
/// and, later, the engine.
public struct ValidatedPipeline: Sendable {
    public let pipeline: Pipeline
    public let graph: PipelineGraph
    /// Warnings that did not stop validation.
    public let warnings: [Diagnostic]
    /// Every step, main then rollback then finally: the graph's node order. Stored, not
    /// computed, since the engine indexes it once per launch.
    public let steps: [Step]

    init(pipeline: Pipeline, graph: PipelineGraph, warnings: [Diagnostic]) {
        self.pipeline = pipeline
        self.graph = graph
        self.warnings = warnings
        self.steps = pipeline.allSteps
    }
}
