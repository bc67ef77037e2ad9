#if canImport(Glibc)
import Glibc
#endif
import RunnerYAML

/// A step's working directory, checked when its attempt starts: the pipeline's folder (or
/// the run's workspace checkout) is what it is now, not what `validate` saw. Without this, a
/// missing directory failed as "cannot start /bin/sh: No such file or directory" (the chdir
/// of the spawned child, reported as the program), and a symlink leading out of the folder
/// was followed.
enum Workdir {
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// The directory to start the step in: `path` (absolute, lexically inside `root`)
    /// resolved, so that the step starts where it was checked to be. `declared` is the
    /// step's `workdir` (nil: the step runs in `root` itself).
    static func confined(_ path: String, declared: String?, root: String) throws -> String {
        let shown = declared.map { "workdir '\($0)'" } ?? "the pipeline's directory"
        guard let resolved = ResolvedPath.real(path) else {
            let error = errno
            let why = error == ENOENT || error == ENOTDIR ? "does not exist" : "cannot be resolved (\(String(cString: strerror(error))))"
            throw Problem(description: "\(shown) \(why): \(path)")
        }
        var info = stat()
        guard stat(resolved, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw Problem(description: "\(shown) is not a directory: \(path)")
        }
        guard declared != nil else { return resolved }
        let realRoot = ResolvedPath.real(root) ?? root
        guard ResolvedPath.isInside(resolved, realRoot) else {
            throw Problem(description: "\(shown) leads, through a symlink, to \(resolved), outside \(realRoot) (RUN2042)")
        }
        return resolved
    }
}
