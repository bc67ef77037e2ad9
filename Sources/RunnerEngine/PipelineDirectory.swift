import FoundationEssentials

/// The directory a run's steps run in and their `workdir` is relative to: the pipeline's
/// folder, or the run's workspace checkout. Its path is made once (a launch joins onto it).
struct PipelineDirectory: Sendable {
    let url: URL
    let path: String

    init(_ url: URL) {
        self.url = url
        path = url.path
    }
}
