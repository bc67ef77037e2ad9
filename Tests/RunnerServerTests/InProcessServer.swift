import Foundation
import RunnerCore
import RunnerEngine
import RunnerTestSupport
@testable import RunnerServer

/// The API server without sockets or libmicrohttpd: requests made here are answered by
/// `APIServer.handle`, over an `InMemoryRunStore` and a pipelines directory of its own. Holds
/// a token of each role.
struct InProcessServer {
    let api: APIServer
    let store: InMemoryRunStore
    let directory: URL
    let tokens: [Role: String]

    static let pipeline = """
        version: 1
        name: hello
        steps:
          - {name: greet, run: "echo hello"}
        """

    init(pipelines: [String: String] = ["hello.yaml": Self.pipeline]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("in-process-\(UUID().uuidString)")
        let pipelinesDirectory = directory.appendingPathComponent("pipelines")
        try FileManager.default.createDirectory(at: pipelinesDirectory, withIntermediateDirectories: true)
        for (name, text) in pipelines {
            try text.write(to: pipelinesDirectory.appendingPathComponent(name), atomically: false, encoding: .utf8)
        }
        store = InMemoryRunStore()
        let service = RunService(state: StateDirectory(root: directory.appendingPathComponent("home")),
                                 environment: ["PATH": "/usr/bin:/bin"], store: store, git: FakeRefResolver(refs: [:]))
        api = APIServer(pipelinesDirectory: pipelinesDirectory.path, service: service)
        api.reload()
        var tokens: [Role: String] = [:]
        for role in Role.allCases {
            guard let made = AccessTokens.make(name: "test-\(role.rawValue)", role: role) else {
                throw TestFailure("libcrypto is unavailable")
            }
            try store.createToken(made.record)
            tokens[role] = made.token
        }
        self.tokens = tokens
    }

    /// A request as `role` (nil: without a token).
    func request(_ method: String, _ path: String, as role: Role? = .viewer, body: String = "",
                 headers: [String: String] = [:], query: [String: String] = [:]) -> HTTPResponse {
        var headers = headers
        if let role, let token = tokens[role] { headers["Authorization"] = "Bearer \(token)" }
        return api.handle(HTTPRequest(method: method, path: path, body: Array(body.utf8), headers: headers,
                                      query: query))
    }

    /// A run of `hello` recorded as `status` (queued, or finished), created `minute` minutes
    /// into 2026 (list order).
    @discardableResult
    func makeRun(_ id: String, status: RunStatus = .succeeded, minute: Int = 0) throws -> RunID {
        let at = Date(timeIntervalSince1970: 1_767_225_600 + Double(minute) * 60)
        let run = RunRecord(id: RunID(id), pipeline: "hello", pipelineFile: "hello.yaml", definition: Self.pipeline,
                            trigger: .api, params: [:], parallelism: 1, createdAt: at)
        try store.createRun(run, steps: [StepRecord(name: StepName("greet"), step: "greet", item: nil, section: "main",
                                                    position: 0)])
        if status != .queued {
            try store.apply([.runStatus(.running, errorCode: nil, message: nil, wakeAt: nil, at: at)], to: run.id)
        }
        if status.isTerminal {
            let end = at.addingTimeInterval(1)
            try store.apply([.runStatus(status, errorCode: nil, message: nil, wakeAt: nil, at: end)], to: run.id)
        }
        return run.id
    }
}

extension HTTPResponse {
    /// The body as JSON (an object), nil when it is not one.
    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    var code: String? { json?["code"] as? String }
}
