import RunnerCore
import Testing

/// A for_each step's status from its instances', one rule for `if` and for contract templates.
@Suite struct StepStatusCombinedTests {
    @Test(arguments: [
        ([StepStatus](), StepStatus.skipped),
        ([.queued, .queued], .queued),
        ([.queued, .succeeded], .running),
        ([.running, .failed], .running),
        ([.failed, .cancelled, .succeeded], .cancelled),
        ([.succeeded, .failed], .failed),
        ([.succeeded, .skipped], .succeeded),
        ([.skipped, .skipped], .skipped),
    ])
    func combined(_ statuses: [StepStatus], _ expected: StepStatus) {
        #expect(StepStatus.combined(statuses) == expected)
    }
}
