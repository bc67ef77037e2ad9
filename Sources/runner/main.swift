#if canImport(Glibc)
import Glibc
#endif
import CProcess
import FoundationEssentials
import RunnerCLI

// A few malloc arenas are plenty for the runner's handful of threads; glibc's default (8 per
// core) lets freed memory scatter across arenas, which showed as a third more peak RSS. Four,
// not two: with two, the state's opening (a Dispatch thread) took the second arena and the
// thread parsing half of a large pipeline shared the main thread's, so the two threads
// reading it contended on one arena's lock at every allocation: W3 reached its first step
// 9-20 ms later (probes, alternating runs). W5's peak RSS stays 33-38 MB either way.
runner_limit_malloc_arenas(4)
// Under some LD_PRELOAD libraries (libfaketime, which the tests use to move the clock) the
// runtime's constructor is given no arguments (argc 0): the kernel's copy has them.
var arguments = CommandLine.arguments
if CommandLine.argc == 0, let line = FileManager.default.contents(atPath: "/proc/self/cmdline") {
    arguments = line.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
}
exit(RunnerCLI.run(Array(arguments.dropFirst())))
