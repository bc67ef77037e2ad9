#if canImport(Glibc)
import Glibc
#endif
import CProcess
import FoundationEssentials
import RunnerCLI

// A few malloc arenas are plenty for the runner's handful of threads; glibc's default (8 per
// core) lets freed memory scatter across arenas, which showed as a third more peak RSS.
runner_limit_malloc_arenas(2)
exit(RunnerCLI.run(Array(CommandLine.arguments.dropFirst())))
