#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore

/// `workdir` confined by where it really leads. The validator's check is lexical (no `..`
/// out, no absolute path) because the core does no I/O; a symlink inside the pipeline's
/// directory can still lead out of it. This check resolves the paths that exist when a file
/// is loaded from disk, the step launch checks again (RunnerEngine's `Workdir`): the folder,
/// or a run's workspace checkout, may differ by then. A workdir that does not exist yet is
/// not an error here: an earlier step may make it.
extension PipelineLoader.Result {
    /// This result, with a `RUN2042` error for each workdir that resolves outside the folder
    /// of `file` (and then no pipeline).
    public func confiningWorkdirs(file: String) -> PipelineLoader.Result {
        guard let validated = pipeline else { return self }
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        guard let root = ResolvedPath.real(folder.path) else { return self }
        var workdirs: [(Located<String>, String)] = []
        if let d = validated.pipeline.defaults.workdir { workdirs.append((d, "the defaults")) }
        for step in validated.pipeline.allSteps {
            if let w = step.workdir { workdirs.append((w, "step '\(step.name.value)'")) }
        }
        var found: [Diagnostic] = []
        for (workdir, owner) in workdirs {
            let path = folder.appendingPathComponent(workdir.value).standardizedFileURL.path
            guard let resolved = ResolvedPath.deepestExisting(path), !ResolvedPath.isInside(resolved, root) else { continue }
            let message = "workdir '\(workdir.value)' of \(owner) leads, through a symlink, to \(resolved), "
                + "outside the pipeline's directory \(root)"
            found.append(Diagnostic(.workdirOutsidePipeline, message, at: workdir.location, length: workdir.value.count,
                                    hint: DiagnosticCode.workdirOutsidePipeline.help))
        }
        guard !found.isEmpty else { return self }
        var result = self
        result.pipeline = nil
        result.diagnostics = PipelineLoader.unique(diagnostics + found)
        return result
    }
}

/// Paths as the kernel resolves them (symlinks followed), for the confinement checks.
public enum ResolvedPath {
    /// realpath(3): nil when the path does not exist (or cannot be resolved).
    public static func real(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The resolved path of `path`'s deepest existing ancestor (`path` itself when it
    /// exists), with the missing rest appended; nil when not even `/` resolves.
    public static func deepestExisting(_ path: String) -> String? {
        var existing = path
        var missing: [Substring] = []
        while true {
            if let resolved = real(existing) {
                return missing.reversed().reduce(resolved) { $0 == "/" ? "/" + $1 : $0 + "/" + $1 }
            }
            guard let slash = existing.lastIndex(of: "/"), existing != "/" else { return nil }
            missing.append(existing[existing.index(after: slash)...])
            existing = slash == existing.startIndex ? "/" : String(existing[..<slash])
        }
    }

    /// Whether `path` is `root` or below it (both resolved, absolute).
    public static func isInside(_ path: String, _ root: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }
}
