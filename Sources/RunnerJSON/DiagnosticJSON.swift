import FoundationEssentials
import RunnerCore

/// The JSON shape of a diagnostic, shared by `validate --json`, `plan --json` and the API.
public struct DiagnosticJSON: Encodable {
    public struct Note: Encodable {
        public var message: String
        public var file: String?
        public var line: Int?
        public var column: Int?
    }

    public var code: String
    public var errorCode: String?
    public var severity: String
    public var message: String
    public var file: String?
    public var line: Int?
    public var column: Int?
    public var length: Int?
    public var subject: String?
    public var hint: String?
    public var notes: [Note]

    public init(_ d: Diagnostic) {
        code = d.code.rawValue
        errorCode = d.contractCode
        severity = d.severity.rawValue
        message = d.message
        file = d.location?.file
        line = d.location?.line
        column = d.location?.column
        length = d.location == nil ? nil : d.length
        subject = d.subject
        hint = d.hint
        notes = d.notes.map {
            Note(message: $0.message, file: $0.location?.file, line: $0.location?.line, column: $0.location?.column)
        }
    }

    enum CodingKeys: String, CodingKey {
        case code, errorCode = "error_code", severity, message, file, line, column, length, subject, hint, notes
    }
}
