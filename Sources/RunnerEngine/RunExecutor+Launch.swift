#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore

/// Starting an attempt's process, and reading what it leaves when it ends.
extension RunExecutor {
    /// Starts the attempt's process; returns the attempt's record (with its pid if it started).
    /// Its end, or a launch that failed, reaches the executor as the scheduler's event.
    func start(_ request: RunScheduler.LaunchRequest, now: Date) -> AttemptRecord {
        let files = AttemptFiles(stem: state.attemptStem(run: runID, step: request.name, serial: request.serial))
        var attempt = AttemptRecord(step: request.name, serial: request.serial, attempt: request.attempt,
                                    startedAt: now)
        attempt.logPath = files.log
        guard let scheduler, let context else { return attempt }
        let step = scheduler.pipeline.steps[request.node]
        let marker = Self.marker(runID, request.name, request.serial)
        var spec = AttemptProcessSpec.make(step, request, attempt: .init(name: request.name, serial: request.serial,
                                                                          files: files, marker: marker),
                                           environment: context.environment, pipelineDirectory: context.directory,
                                           masker: context.masker, echo: echo(for: request.name))
        let instance = request.instance, serial = request.serial
        running[instance] = RunningAttempt(serial: serial, outputPath: files.output, progressPath: files.progress)
        options.observer?(.attemptStarted(request.name, attempt: request.attempt, serial: serial, logPath: spec.logPath,
                                          at: now))
        let inbox = self.inbox
        do {
            spec.workingDirectory = try confinedWorkdir(spec.workingDirectory, declared: request.policy.workdir)
            let onExit = Self.exitHandler(instance: instance, serial: serial, output: files.output,
                                          declared: Set(step.outputs.map(\.value)), masker: context.masker,
                                          inbox: inbox)
            let pid = try launcher.launch(spec, onExit: onExit)
            running[instance]?.pid = pid
            attempt.pid = pid
        } catch {
            let failed = AttemptEnd(.launchFailed("\(error)"))
            inbox.yield(.scheduler(.attemptEnded(instance: instance, serial: serial, failed, outputs: [:])))
        }
        return attempt
    }

    /// The live output of a step, to the observer, when the front door asked for it.
    private func echo(for name: StepName) -> (@Sendable (String, Bool) -> Void)? {
        guard options.echoOutput, let observer = options.observer else { return nil }
        return { @Sendable text, isError in observer(.output(name, text: text, isError: isError)) }
    }

    /// What runs when the attempt's process ended (on the launcher's thread): its declared
    /// outputs are read (masked) when it succeeded, and its end goes to the executor.
    private static func exitHandler(instance: Int, serial: Int, output: String, declared: Set<String>,
                                    masker: SecretMasker,
                                    inbox: EventInbox<Input>) -> @Sendable (ProcessExit) -> Void {
        { exit in
            let succeeded = exit.reason == .exited(code: 0)
            let outputs = succeeded ? readOutputs(output, declared: declared, masker: masker) : [:]
            // Read (masked), or holding what a secret may have been written to: its raw text
            // stays nowhere. (Without either, no unlink per step for a file never written.)
            if !declared.isEmpty || !masker.isEmpty { unlink(output) }
            let end = AttemptEnd(exit.reason, stderrTail: exit.stderrTail)
            inbox.yield(.scheduler(.attemptEnded(instance: instance, serial: serial, end, outputs: outputs)))
        }
    }

    /// The step's directory, resolved and confined once per run and path; after that one
    /// `stat` per launch tells it is still a directory (a realpath per launch was six
    /// syscalls a step).
    func confinedWorkdir(_ path: String, declared: String?) throws -> String {
        if let known = resolvedWorkdirs[path] {
            var info = stat()
            if stat(known, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { return known }
        }
        let resolved = try Workdir.confined(path, declared: declared, root: context?.directory.path ?? "/")
        resolvedWorkdirs[path] = resolved
        return resolved
    }

    /// `key=value` lines of `$RUNNER_OUTPUT`, for the outputs the step declares.
    /// Values are masked: an output that holds a secret is stored, shown and passed on as `***`.
    static func readOutputs(_ path: String, declared: Set<String>, masker: SecretMasker) -> [String: String] {
        guard !declared.isEmpty, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var outputs: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals]).trimmingSpaces()
            if declared.contains(key) { outputs[key] = masker.mask(String(line[line.index(after: equals)...])) }
        }
        return outputs
    }
}
