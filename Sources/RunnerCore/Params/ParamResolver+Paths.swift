extension ParamResolver {
    /// What makes `path` no path below a root, as written (the disk is checked at launch):
    /// empty, absolute, or with a `..`, `.` or empty segment. The message quotes the path as
    /// given. A NUL is refused before, as for every param.
    public static func relativePathProblem(_ path: String) -> Problem? {
        let hint = "give the path relative to the param's root, folders separated by one '/'"
        if path.isEmpty { return Problem("a path cannot be empty", hint: hint) }
        if path.hasPrefix("/") { return Problem("path '\(path)' is absolute", hint: hint) }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        if segments.contains("..") { return Problem("path '\(path)' leaves its root", hint: hint) }
        if segments.contains(where: { $0.isEmpty || $0 == "." }) {
            return Problem("path '\(path)' has an empty or '.' segment", hint: hint)
        }
        return nil
    }
}
