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
exit(RunnerCLI.run(Array(CommandLine.arguments.dropFirst())))
