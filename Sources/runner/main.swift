import Foundation
import RunnerCLI

exit(RunnerCLI.run(Array(CommandLine.arguments.dropFirst())))
