import FoundationEssentials
import RunnerCore
import RunnerYAML

extension RunRecord {
    /// The params whose values are shown as `***`: the secret names stored with the run. For a
    /// run recorded before the names were stored, those its definition declares, and every
    /// param when the definition no longer loads: masking fails closed.
    public var maskedParams: Set<String> {
        if let secretParams { return secretParams }
        guard !definition.isEmpty, let pipeline = PipelineLoader.load(bytes: Array(definition.utf8), file: pipelineFile).pipeline else {
            return Set(params.keys)
        }
        return Set(pipeline.pipeline.params.filter(\.isSecret).map(\.name.value))
    }

    /// The run's params as they may be shown: secret ones as `***`.
    public var shownParams: [String: Value] {
        let masked = maskedParams
        return params.reduce(into: [:]) { $0[$1.key] = masked.contains($1.key) ? .string("***") : $1.value }
    }
}
