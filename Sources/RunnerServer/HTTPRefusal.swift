import CHTTPDShim
import FoundationEssentials
import RunnerCore

/// A request the server refuses before any handler sees it, answered in the API's error shape
/// (`{code, message, hint}`); the connection is closed after the answer. Framing with two
/// readings is how requests are smuggled past a proxy (RFC 9112 6.3): the proxy and this
/// server would disagree where the body ends. A NUL would end the path libmicrohttpd hands
/// over as a C string, so the route answered would not be the one asked for.
public enum HTTPRefusal: Sendable, Equatable {
    case conflictingLengths
    case lengthAndCoding
    case unsupportedCoding
    case nulInURL
    /// Sent by the C layer to a started request whose headers missed the deadline.
    case headersTimeout(Duration)

    init?(framing: Int32) {
        switch framing {
        case RUNNER_HTTP_FRAMING_CONFLICTING_LENGTHS: self = .conflictingLengths
        case RUNNER_HTTP_FRAMING_LENGTH_AND_CODING: self = .lengthAndCoding
        case RUNNER_HTTP_FRAMING_UNSUPPORTED_CODING: self = .unsupportedCoding
        case RUNNER_HTTP_FRAMING_NUL_IN_URL: self = .nulInURL
        default: return nil
        }
    }

    var status: Int {
        switch self {
        case .conflictingLengths, .lengthAndCoding, .nulInURL: 400
        case .unsupportedCoding: 501
        case .headersTimeout: 408
        }
    }

    var code: DiagnosticCode {
        switch self {
        case .conflictingLengths, .lengthAndCoding: .ambiguousBodyLength
        case .unsupportedCoding: .unsupportedTransferCoding
        case .nulInURL: .nulInURL
        case .headersTimeout: .headersTimeout
        }
    }

    var message: String {
        switch self {
        case .conflictingLengths: "the request has Content-Length fields that disagree"
        case .lengthAndCoding: "the request has both Content-Length and Transfer-Encoding"
        case .unsupportedCoding: "the request's Transfer-Encoding is not 'chunked' alone"
        case .nulInURL: "the request path contains a NUL character (%00)"
        case .headersTimeout(let limit): "the request headers did not arrive within \(DurationText.format(limit))"
        }
    }

    public var response: HTTPResponse { APIServer.error(status, code, message) }
}
