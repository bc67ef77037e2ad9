import Testing
@testable import RunnerCore

@Suite struct NameRulesTests {
    @Test(arguments: [
        ("targetRef", "TARGET_REF"), ("forceInvalidate", "FORCE_INVALIDATE"), ("from_published_at", "FROM_PUBLISHED_AT"),
        ("cdk-deploy", "CDK_DEPLOY"), ("ID", "ID"), ("step2Go", "STEP2_GO"), ("a", "A"),
    ])
    func environmentNames(_ name: String, _ expected: String) {
        #expect(NameRules.environmentName(name) == expected)
    }

    @Test func pipelineNames() {
        #expect(NameRules.isPipelineName("docs-publish"))
        #expect(NameRules.isPipelineName("a1_b"))
        #expect(!NameRules.isPipelineName("Docs"))
        #expect(!NameRules.isPipelineName("-docs"))
        #expect(!NameRules.isPipelineName(""))
        #expect(!NameRules.isPipelineName(String(repeating: "a", count: 65)))
    }

    @Test func stepNamesAndIdentifiers() {
        #expect(NameRules.isStepName("docs_link_check"))
        #expect(NameRules.isStepName("Build-1"))
        #expect(!NameRules.isStepName("1build"))
        #expect(!NameRules.isStepName("a b"))
        #expect(!NameRules.isStepName("a[b]"))
        #expect(NameRules.isIdentifier("_x1"))
        #expect(!NameRules.isIdentifier("x-1"))
    }

    @Test func errorCodes() {
        #expect(NameRules.isErrorCode("DOCS_BUILD_FAILED"))
        #expect(NameRules.isErrorCode("E2"))
        #expect(!NameRules.isErrorCode("docs_failed"))
        #expect(!NameRules.isErrorCode("_X"))
    }

    @Test func reservedEnvironment() {
        for name in ["ITEM", "RUNNER_X", "PARAM_A", "STEP_B_C"] { #expect(NameRules.isReservedEnvironmentName(name)) }
        #expect(!NameRules.isReservedEnvironmentName("SITE_DIR"))
    }

    @Test func suggestions() {
        #expect(Suggestion.closest(to: "timout", in: ["timeout", "retry"]) == "timeout")
        #expect(Suggestion.closest(to: "biuld", in: ["build", "test"]) == "build")
        #expect(Suggestion.closest(to: "xyz", in: ["build", "test"]) == nil)
        #expect(Suggestion.closest(to: "RETRY", in: ["retry"]) == "retry")
        #expect(Suggestion.editDistance("ab", "ba") == 1)
        #expect(Suggestion.editDistance("", "abc") == 3)
    }
}
