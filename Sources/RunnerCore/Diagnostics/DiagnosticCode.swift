/// Every diagnostic the runner can report, with a stable code. The codes are a public
/// contract: never renumber, only add. `docs/DIAGNOSTICS.md` is generated from `summary` and
/// `help` and checked by a test.
public enum DiagnosticCode: String, CaseIterable, Hashable, Sendable, Codable {
    // MARK: 1xxx YAML
    case yamlSyntax = "RUN1001"
    case emptyDocument = "RUN1002"
    case multipleDocuments = "RUN1003"
    case duplicateKey = "RUN1004"
    case aliasLimit = "RUN1005"
    case nestingTooDeep = "RUN1006"
    case invalidEncoding = "RUN1007"
    case undefinedAlias = "RUN1008"
    case scalarTooLong = "RUN1009"
    case unreadableFile = "RUN1010"
    case invalidMergeKey = "RUN1011"
    case unsupportedTag = "RUN1012"
    case fileTooLarge = "RUN1013"
    case complexKey = "RUN1014"
    case notRegularFile = "RUN1015"

    // MARK: 2xxx validation and DAG
    case unknownKey = "RUN2001"
    case wrongType = "RUN2002"
    case dependencyCycle = "RUN2003"
    case missingField = "RUN2004"
    case invalidValue = "RUN2005"
    case unknownNeed = "RUN2006"
    case duplicateStep = "RUN2007"
    case duplicateStage = "RUN2008"
    case invalidDuration = "RUN2009"
    case invalidCron = "RUN2010"
    case expressionSyntax = "RUN2011"
    case unknownParam = "RUN2012"
    case unknownStep = "RUN2013"
    case unknownOutput = "RUN2014"
    case undeclaredDependency = "RUN2015"
    case invalidRetry = "RUN2016"
    case crossSectionNeed = "RUN2017"
    case laterStageNeed = "RUN2018"
    case unsupportedVersion = "RUN2019"
    case invalidName = "RUN2020"
    case invalidDefault = "RUN2021"
    case invalidParamSpec = "RUN2022"
    case invalidPattern = "RUN2023"
    case unreachableErrorClass = "RUN2024"
    case invalidErrorCode = "RUN2025"
    case invalidEnvName = "RUN2026"
    case invalidPath = "RUN2027"
    case expressionType = "RUN2028"
    case invalidComparison = "RUN2029"
    case invalidGitTrigger = "RUN2030"
    case invalidScheduleParams = "RUN2031"
    case conflictingKeys = "RUN2032"
    case invalidTimezone = "RUN2033"
    case emptyPipeline = "RUN2034"
    case ineffectiveSetting = "RUN2035"
    case duplicateEntry = "RUN2036"
    case invalidWorkspace = "RUN2037"
    case expressionTooLong = "RUN2038"
    case expressionTooDeep = "RUN2039"
    case execStringTooLong = "RUN2040"
    case execStringHasNUL = "RUN2041"
    case workdirOutsidePipeline = "RUN2042"
    case invalidPathRoot = "RUN2043"
    case invalidProgress = "RUN2044"

    // MARK: 206x API contracts
    case invalidContract = "RUN2060"
    case duplicateRoute = "RUN2061"
    case unusedPathParameter = "RUN2062"
    case incompleteStatusMap = "RUN2063"
    case unmappedParam = "RUN2064"

    // MARK: 21xx param values given to a run
    case missingParam = "RUN2101"
    case invalidParam = "RUN2102"
    case unexpectedParam = "RUN2103"
    case paramContainsNUL = "RUN2104"
    case paramTooLarge = "RUN2105"

    // MARK: 4xxx run state
    case runNotFound = "RUN4001"
    case runFinished = "RUN4002"
    case runBusy = "RUN4003"
    case stateUnavailable = "RUN4004"
    case stepNotFound = "RUN4005"
    case stateBusy = "RUN4006"
    case leaseLost = "RUN4007"
    case definitionUnloadable = "RUN4008"

    // MARK: 6xxx server
    case invalidBody = "RUN6001"
    case pipelineNotFound = "RUN6002"
    case routeNotFound = "RUN6003"
    case methodNotAllowed = "RUN6004"
    case bodyTooLarge = "RUN6005"
    case unauthorized = "RUN6006"
    case forbidden = "RUN6007"
    case idempotencyKeyReused = "RUN6008"
    case idempotencyKeyInFlight = "RUN6009"
    case invalidIdempotencyKey = "RUN6010"
    case ambiguousBodyLength = "RUN6011"
    case unsupportedTransferCoding = "RUN6012"
    case nulInURL = "RUN6013"
    case headersTimeout = "RUN6014"
    case tooManyEventStreams = "RUN6015"

    // MARK: 7xxx CLI
    case usage = "RUN7001"
    case invalidParamsFile = "RUN7002"
    case internalError = "RUN7099"

    public var defaultSeverity: Diagnostic.Severity {
        switch self {
        case .ineffectiveSetting, .duplicateEntry: .warning
        default: .error
        }
    }
}
