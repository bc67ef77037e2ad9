/// A pipeline that passed validation, with its graph. Only this type reaches `plan`, `graph`
/// and, later, the engine.
public struct ValidatedPipeline: Sendable {
    public let pipeline: Pipeline
    public let graph: PipelineGraph
    /// Warnings that did not stop validation.
    public let warnings: [Diagnostic]

    public var steps: [Step] { pipeline.allSteps }
}
