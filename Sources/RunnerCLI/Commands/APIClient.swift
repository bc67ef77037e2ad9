// libcurl through CCurlShim, not URLSession: FoundationNetworking (and libcurl linked into the
// binary) cost every command start-up time, and only these requests need them.
#if canImport(Glibc)
import Glibc
#endif
import CCurlShim
import FoundationEssentials
import RunnerCore

/// The CLI as a client of `runner serve` (`--server URL --token-file F`): one request at a
/// time, waited for on the calling thread. The token is read from a file (never an argument,
/// which other users can see in `ps`) and never printed.
struct APIClient {
    let base: URL
    let token: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let options: [CommandSpec.Option] = [
        .init(long: "server", short: nil, valueName: "URL", help: "use the API of this runner server instead of the local state"),
        .init(long: "token-file", short: nil, valueName: "FILE", help: "the API token for --server (a file holding it)"),
    ]

    /// Nil when `--server` is not given; a failure when it is given badly.
    static func from(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> Result<APIClient, Failure>? {
        guard let server = arguments.value("server") else {
            if arguments.value("token-file") != nil { return .failure(Failure(description: "--token-file goes with --server URL")) }
            return nil
        }
        guard let url = URL(string: server), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            return .failure(Failure(description: "--server takes a URL like http://127.0.0.1:8080, got '\(server)'"))
        }
        guard let file = arguments.value("token-file") else {
            return .failure(Failure(description: "--server needs --token-file FILE (create a token with `runner token create`)"))
        }
        let path = URL(fileURLWithPath: file, relativeTo: URL(fileURLWithPath: context.currentDirectory)).path
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(Failure(description: "cannot read the token file \(file)"))
        }
        let token = String(decoding: data, as: UTF8.self).trimmingWhitespace()
        guard token.hasPrefix("rnr_") else { return .failure(Failure(description: "\(file) does not hold a runner token (rnr_…)")) }
        return .success(APIClient(base: url, token: token))
    }

    struct Reply {
        var status: Int
        var body: Data
        var json: JSONValue? { JSONValue.parse(body) }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func send(_ method: String, _ path: String, body: JSONValue? = nil, headers: [String: String] = [:]) -> Result<Reply, Failure> {
        guard let url = URL(string: path, relativeTo: base) else { return .failure(Failure(description: "bad path \(path)")) }
        var lines = ["Authorization: Bearer \(token)"]
        for (k, v) in headers { lines.append("\(k): \(v)") }
        var payload: [UInt8]?
        if let body {
            payload = body.encoded()
            lines.append("Content-Type: application/json")
        }
        var status = 0
        var reply: UnsafeMutablePointer<CChar>?
        var length = 0
        var error = [CChar](repeating: 0, count: 512)
        let cLines = lines.map { strdup($0) }
        defer { cLines.forEach { free($0) } }
        let result = cLines.withUnsafeBufferPointer { pointers in
            pointers.withMemoryRebound(to: UnsafePointer<CChar>?.self) { headers in
                (payload ?? []).withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { chars in
                        runner_curl_request(method, url.absoluteString, headers.baseAddress, headers.count,
                                            payload == nil ? nil : chars.baseAddress, chars.count, 60,
                                            &status, &reply, &length, &error, error.count)
                    }
                }
            }
        }
        guard result == 0 else {
            let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(Failure(description: "cannot reach \(base.absoluteString): \(message)"))
        }
        defer { free(reply) }
        let data = reply.map { Data(bytes: $0, count: length) } ?? Data()
        return .success(Reply(status: status, body: data))
    }

    /// An error reply as the CLI shows errors: `error[CODE]: message` and the hint.
    static func render(_ reply: Reply, _ context: RunnerCLI.Context) {
        let object = reply.json
        let code = object?["code"]?.string ?? "HTTP \(reply.status)"
        let message = object?["message"]?.string ?? reply.text
        var text = "error[\(code)]: \(message)\n"
        if let hint = object?["hint"]?.string { text += "  hint: \(hint)\n" }
        context.console.err(text)
    }

    /// The exit code of DESIGN.md for an HTTP status.
    static func exitCode(_ status: Int) -> ExitCode {
        switch status {
        case 200..<300: .success
        case 400, 422: .invalid
        case 409: .conflict
        case 401, 403, 404: .runFailed
        default: .internalError
        }
    }
}
