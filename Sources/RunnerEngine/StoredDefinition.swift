import RunnerCore
import RunnerYAML

/// The one loader of a run's stored definition: what the executor resumes from and the front
/// doors read (retry, retention, retryability) all parse it here. The last few definitions
/// loaded are kept, keyed by their text and file: a server asked about the runs of one
/// pipeline parses it once. A definition longer than `cachedLength` is parsed each time and
/// not kept: its model is large, and what asks for it (a resume, a retry) is rare.
public enum StoredDefinition {
    /// The stored definition no longer loads (a runner of another version wrote it, or it was
    /// altered): every diagnostic of the attempt.
    public struct Unloadable: Error, Sendable {
        public var diagnostics: [Diagnostic]
    }

    static let capacity = 16
    static let cachedLength = 128 << 10

    private struct Key: Hashable {
        var text: String
        var file: String
    }

    private typealias Loaded = Result<ValidatedPipeline, Unloadable>
    /// The results kept, and their keys oldest first.
    private static let cache = Protected<(entries: [Key: Loaded], order: [Key])>(([:], []))

    /// The run's pipeline, loaded and validated from the definition stored with it (the record
    /// must have been loaded with its definition).
    public static func load(_ run: RunRecord) -> Result<ValidatedPipeline, Unloadable> {
        load(run.definition, file: run.pipelineFile)
    }

    /// The weights of the run's progress (`RunProgress`): its stored definition's `progress`
    /// (every main step once without one); every main step once when the definition is not at
    /// hand (the record was read without it, or it no longer loads).
    public static func progressWeights(of stored: StoredRun) -> [String: Int] {
        guard !stored.run.definition.isEmpty, case .success(let pipeline) = load(stored.run) else {
            return RunProgress.defaultWeights(of: stored.steps)
        }
        return RunProgress.weights(of: pipeline.pipeline)
    }

    static func load(_ text: String, file: String) -> Result<ValidatedPipeline, Unloadable> {
        guard text.utf8.count <= cachedLength else { return parse(text, file: file) }
        let key = Key(text: text, file: file)
        if let known = cache.withLock({ $0.entries[key] }) { return known }
        let loaded = parse(text, file: file)
        cache.withLock { cache in
            guard cache.entries.updateValue(loaded, forKey: key) == nil else { return }
            cache.order.append(key)
            if cache.order.count > capacity { cache.entries[cache.order.removeFirst()] = nil }
        }
        return loaded
    }

    /// Whether the loader keeps the result for this text and file.
    static func isKept(_ text: String, file: String) -> Bool {
        cache.withLock { $0.entries[Key(text: text, file: file)] != nil }
    }

    /// The loader's result, syntax tree included, is dropped here: only the model is kept.
    private static func parse(_ text: String, file: String) -> Result<ValidatedPipeline, Unloadable> {
        let result = PipelineLoader.load(bytes: Array(text.utf8), file: file)
        guard let pipeline = result.pipeline else { return .failure(Unloadable(diagnostics: result.diagnostics)) }
        return .success(pipeline)
    }
}
