#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCLI

// Under some LD_PRELOAD libraries (libfaketime, which the tests use to move the clock) the
// runtime's constructor is given no arguments (argc 0): the kernel's copy has them.
var arguments = CommandLine.arguments
if CommandLine.argc == 0, let line = FileManager.default.contents(atPath: "/proc/self/cmdline") {
    arguments = line.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
}
exit(RunnerCLI.run(Array(arguments.dropFirst())))
