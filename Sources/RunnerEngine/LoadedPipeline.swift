import RunnerCore

/// A pipeline ready to launch: its validated model, the definition text each of its runs
/// records (the bytes that were validated, so an edit of the file cannot make the two differ)
/// and the file it was read from.
public struct LoadedPipeline: Sendable {
    public var pipeline: ValidatedPipeline
    public var definition: String
    public var file: String

    public init(pipeline: ValidatedPipeline, definition: String, file: String) {
        self.pipeline = pipeline
        self.definition = definition
        self.file = file
    }

    public var name: String { pipeline.pipeline.name.value }
}
