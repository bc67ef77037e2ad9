/// The settings a step actually runs with, after defaults and error-class precedence. Both
/// `plan` and the engine use this one resolution, so what `plan` shows is what runs.
public struct StepPolicy: Sendable {
    public enum Origin: String, Sendable {
        /// From the step's own `errors`.
        case step
        /// A pipeline-wide class with a matcher.
        case pipeline
        /// The step's `error` code, as a catch-all.
        case stepDefault = "step_error"
        /// The pipeline's catch-all class.
        case pipelineDefault = "pipeline_catch_all"
        /// No class matched: `STEP_FAILED`.
        case fallback
    }

    public struct ResolvedClass: Sendable {
        public var exitCodes: [Int]
        public var stderrPattern: String?
        public var matchesTimeout: Bool
        public var code: String
        public var message: String?
        public var retry: RetryPolicy
        public var origin: Origin

        public var isCatchAll: Bool { exitCodes.isEmpty && stderrPattern == nil && !matchesTimeout }

        public var matcherSummary: String {
            ErrorClass.describeMatchers(exitCodes: exitCodes, stderrPattern: stderrPattern, matchesTimeout: matchesTimeout)
        }
    }

    public static let fallbackCode = "STEP_FAILED"

    public var timeout: Duration?
    public var retry: RetryPolicy
    public var shell: Shell
    /// Relative to the pipeline file's directory; nil means that directory.
    public var workdir: String?
    /// Tried in order; the last one always matches.
    public var errorClasses: [ResolvedClass]

    public init(step: Step, pipeline: Pipeline) {
        let defaults = pipeline.defaults
        timeout = step.timeout?.value ?? defaults.timeout?.value
        retry = step.retry?.value ?? defaults.retry?.value ?? .none
        shell = step.shell ?? defaults.shell ?? .standard
        workdir = step.workdir?.value ?? defaults.workdir?.value
        let retry = self.retry
        func resolve(_ c: ErrorClass, _ origin: Origin) -> ResolvedClass {
            ResolvedClass(exitCodes: c.exitCodes, stderrPattern: c.stderrPattern?.value, matchesTimeout: c.matchesTimeout,
                          code: c.code.value, message: c.message, retry: c.retry?.value ?? retry, origin: origin)
        }
        var classes = step.errors.map { resolve($0, .step) }
        if !classes.contains(where: \.isCatchAll) {
            classes += pipeline.errors.filter { !$0.isCatchAll }.map { resolve($0, .pipeline) }
            if let code = step.errorCode {
                classes.append(ResolvedClass(exitCodes: [], stderrPattern: nil, matchesTimeout: false, code: code.value,
                                             message: nil, retry: retry, origin: .stepDefault))
            } else if let catchAll = pipeline.errors.first(where: \.isCatchAll) {
                classes.append(resolve(catchAll, .pipelineDefault))
            } else {
                classes.append(ResolvedClass(exitCodes: [], stderrPattern: nil, matchesTimeout: false, code: Self.fallbackCode,
                                             message: nil, retry: retry, origin: .fallback))
            }
        }
        errorClasses = classes
    }
}
