#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore
import RunnerYAML

/// `path` params checked on disk when a run is launched, before anything is recorded (every
/// front door, with the gitref params: `LaunchCheck`). The value was checked as written by
/// `ParamResolver` (relative, no `..`); here its root is expanded and made, and the path must
/// lead, symlinks followed, to a place inside the root, and exist when the param asks it to.
/// Messages quote the path as given, never where the root is on this machine.
public enum PathParams {
    /// A problem of each path param (or list of paths) that does not pass, with the param's
    /// own error code. `actor` fills a root's `{actor}`; `environment` its `${VAR}`s.
    /// `makesRoots` false (a plan, a dry run): a missing root is left missing, and holds nothing.
    public static func check(_ pipeline: ValidatedPipeline, params: [String: Value], pipelineFile: String,
                             actor: String?, environment: [String: String], makesRoots: Bool = true) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for spec in pipeline.pipeline.params {
            guard let value = params[spec.name.value],
                  let (rules, paths) = paths(of: spec.kind, value) else { continue }
            let problem: ParamResolver.Problem?
            switch root(of: rules, pipelineFile: pipelineFile, actor: actor, environment: environment,
                        makes: makesRoots) {
            case .failure(let refused): problem = refused
            case .success(let root): problem = check(paths, below: root, rules)
            }
            guard let problem else { continue }
            var message = "param '\(spec.name.value)': \(problem.message)"
            if spec.isSecret { message = SecretMasker(paths.map(\.path)).mask(message) }
            diagnostics.append(Diagnostic(.invalidParam, message, hint: problem.hint,
                                          contractCode: spec.errorCode?.value, subject: "params.\(spec.name.value)"))
        }
        return diagnostics
    }

    /// The paths a param's value holds, each with how a message names it.
    private static func paths(of kind: ParamKind, _ value: Value)
        -> (ParamKind.PathRules, [(path: String, label: String)])? {
        switch (kind, value) {
        case (.path(let rules), .string(let path)):
            return (rules, [(path, "")])
        case (.list(let list), .list(let items)):
            guard case .path(let rules) = list.items else { return nil }
            let paths = items.enumerated().compactMap { n, item in
                item.environmentText.map { (path: $0, label: "item \(n + 1): ") }
            }
            return (rules, paths)
        default:
            return nil
        }
    }

    /// Where the root is, resolved: expanded, relative to the pipeline file's folder, made
    /// when missing unless the paths must exist. Nil: it is missing.
    private static func root(of rules: ParamKind.PathRules, pipelineFile: String, actor: String?,
                             environment: [String: String], makes: Bool) -> Result<String?, ParamResolver.Problem> {
        let expanded: String
        switch rules.root.expand(environment: environment, actor: actor) {
        case .success(let text): expanded = text
        case .failure(let problem): return .failure(ParamResolver.Problem(problem.message, hint: problem.hint))
        }
        let folder = URL(fileURLWithPath: pipelineFile).deletingLastPathComponent()
        let path = URL(fileURLWithPath: expanded, relativeTo: folder).standardizedFileURL.path
        if let real = ResolvedPath.real(path) { return .success(real) }
        // A missing root holds nothing: every path that must exist is then missing.
        if rules.mustExist || !makes { return .success(nil) }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            return .failure(ParamResolver.Problem("its root folder cannot be made where the runner runs",
                                                  hint: "check the root the pipeline declares and the runner's rights"))
        }
        return ResolvedPath.real(path).map { .success($0) }
            ?? .failure(ParamResolver.Problem("its root folder cannot be resolved where the runner runs"))
    }

    /// The first problem of `paths` below `root` (nil: a root that does not exist, where
    /// nothing exists).
    private static func check(_ paths: [(path: String, label: String)], below root: String?,
                              _ rules: ParamKind.PathRules) -> ParamResolver.Problem? {
        for (path, label) in paths {
            guard let problem = check(path, below: root, rules) else { continue }
            return ParamResolver.Problem(label + problem.message, hint: problem.hint)
        }
        return nil
    }

    private static func check(_ path: String, below root: String?,
                              _ rules: ParamKind.PathRules) -> ParamResolver.Problem? {
        let missing = ParamResolver.Problem("path '\(path)' does not exist",
                                            hint: "give the path of an existing \(noun(rules.kind)) below the root")
        guard let root else { return rules.mustExist ? missing : nil }
        let (deepest, exists) = deepestEntry(path, below: root)
        // A symlink that leads nowhere: what a step writes there would land where it points.
        guard let resolved = ResolvedPath.real(deepest) else {
            return ParamResolver.Problem("path '\(path)' leads through a broken symbolic link",
                                         hint: "give a path whose folders exist or can be made below the param's root")
        }
        guard ResolvedPath.isInside(resolved, root) else {
            return ParamResolver.Problem("path '\(path)' leaves its root",
                                         hint: "it leads outside the param's root through a symbolic link")
        }
        guard rules.mustExist else { return nil }
        guard exists else { return missing }
        switch (rules.kind, fileType(resolved)) {
        case (.any, _), (.file, S_IFREG), (.directory, S_IFDIR):
            return nil
        default:
            return ParamResolver.Problem("path '\(path)' is not a \(noun(rules.kind))",
                                         hint: "give the path of a \(noun(rules.kind)) below the param's root")
        }
    }

    /// The deepest of `root`, `root/a`, `root/a/b`, … for the path `a/b/…` that is an entry
    /// (a symlink counts, resolved or not), and whether that is the whole path.
    private static func deepestEntry(_ path: String, below root: String) -> (String, Bool) {
        var current = root
        for segment in path.split(separator: "/") {
            let next = current == "/" ? "/" + segment : current + "/" + segment
            var info = stat()
            guard lstat(next, &info) == 0 else { return (current, false) }
            current = next
        }
        return (current, true)
    }

    /// The type bits of what `path` names (symlinks followed); 0 when it cannot be read.
    private static func fileType(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    private static func noun(_ kind: ParamKind.PathRules.Kind) -> String {
        switch kind {
        case .file: "file"
        case .directory: "directory"
        case .any: "file or directory"
        }
    }
}
