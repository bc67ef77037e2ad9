/// What `execve` accepts. Linux refuses (E2BIG) any one argv or envp string longer than
/// MAX_ARG_STRLEN, 32 pages including its NUL; pages are 4 KiB on x86-64 and the smallest
/// anywhere, so a pipeline within this bound is within it on every machine.
public enum ExecLimits {
    /// Bytes of one string, without its NUL: a `run` script, a shell word, `NAME=value`.
    public static let maxStringBytes = 32 * 4096 - 1
}
