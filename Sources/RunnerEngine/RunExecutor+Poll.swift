#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import RunnerCore

/// What the executor looks at every `pollInterval` while the run executes: the steps'
/// progress, a cancel request stored by another process, the lease, the log folder.
extension RunExecutor {
    /// Polls on the loop until the run is finished.
    func schedulePoll() {
        let interval = Double(DurationText.milliseconds(options.pollInterval)) / 1000
        timers.poll = loop.schedule(after: interval) { [weak self] in
            guard let self else { return }
            self.assumeIsolated { executor in
                guard executor.scheduler != nil, executor.timers.poll != nil else { return }
                executor.poll()
                executor.schedulePoll()
            }
        }
    }

    func poll() {
        guard let scheduler, !scheduler.isFinished else { return }
        // The run's log folder removed under it: made again, so the steps' outputs, progress
        // and logs have somewhere to go (a log being written is reopened by the launcher).
        if !running.isEmpty { ensureLogDirectory() }
        for instance in running.keys { recordProgress(of: instance) }
        try? renewLeaseIfDue()
        if !storedCancelSeen {
            let store = self.store, runID = self.runID
            Task.detached { [weak self] in
                if (try? store.isCancelRequested(runID)) == true { await self?.storedCancelRequested() }
            }
        }
        try? flush()
    }

    /// The stored request is one cancel, however many polls see it: a second one would also
    /// stop the finally steps (that is what a second Ctrl-C does).
    func storedCancelRequested() {
        guard !storedCancelSeen else { return }
        storedCancelSeen = true
        inbox.yield(.scheduler(.cancel))
    }

    /// Asks the writer to renew the lease when a third of it has passed since the last ask.
    func renewLeaseIfDue() throws {
        try writer.submit([], of: runID)  // throws what made the writer give the run up
        guard heartbeat?.isDue(at: clock.monotonic()) == true else { return }
        writer.renew(runID)
    }

    /// Suspends for `seconds` on the loop's timer (the loop serves other runs meanwhile).
    func sleep(_ seconds: Double) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            _ = loop.schedule(after: seconds) { done.resume() }
        }
    }

    /// The run's log folder made again if it was removed; the launch journal then reopens
    /// (its file went with the folder).
    func ensureLogDirectory() {
        if access(state.logs(of: runID).path, F_OK) != 0 {
            try? state.ensureLogs(of: runID)
            logFolder.journal.close()
        }
        logFolder.seenAt = clock.monotonic()
    }

    /// Reads the attempt's progress file when it grew; records a changed last line.
    func recordProgress(of instance: Int) {
        guard let scheduler, let attempt = running[instance], !attempt.progressPath.isEmpty,
              let read = Self.readProgress(attempt, masker: context?.masker ?? SecretMasker([])) else { return }
        running[instance]?.progressSize = read.size
        guard let percent = read.percent else { return }
        running[instance]?.lastProgress = percent
        running[instance]?.lastProgressMessage = read.message
        let name = scheduler.instances[instance].name
        staged.changes.append(.progress(name, percent: percent, message: read.message))
        options.observer?(.progress(name, percent: percent, message: read.message))
    }

    /// The last line of the attempt's progress file when the file grew: its size, and the
    /// percentage and message (masked) when they differ from the last ones recorded. Only the
    /// file's last 4 KiB are read, however large the step let it grow.
    static func readProgress(_ attempt: RunningAttempt,
                             masker: SecretMasker) -> (size: Int, percent: Int?, message: String?)? {
        var info = stat()
        guard stat(attempt.progressPath, &info) == 0, Int(info.st_size) != attempt.progressSize else { return nil }
        let size = Int(info.st_size)
        guard let tail = readTail(attempt.progressPath, size: size, limit: 4096),
              let line = String(decoding: tail, as: UTF8.self).split(whereSeparator: \.isNewline).last else {
            return (size, nil, nil)
        }
        let parts = line.split(separator: " ", maxSplits: 1)
        guard let value = parts.first.flatMap({ Int($0) }) else { return (size, nil, nil) }
        let percent = min(100, max(0, value))
        let message = parts.count > 1 ? masker.mask(String(parts[1])) : nil
        guard percent != attempt.lastProgress || message != attempt.lastProgressMessage else { return (size, nil, nil) }
        return (size, percent, message)
    }

    /// The last `limit` bytes of a file of `size` bytes.
    static func readTail(_ path: String, size: Int, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let count = min(size, limit)
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(size - count)) }
        guard n >= 0 else { return nil }
        return Array(bytes.prefix(n))
    }
}
