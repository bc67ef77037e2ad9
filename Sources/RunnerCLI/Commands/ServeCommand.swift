#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import FoundationEssentials
import RunnerCore
import RunnerEngine
import RunnerServer

/// `runner serve`: the HTTP API on the pipelines of a directory, the engine in this process.
enum ServeCommand {
    static let spec = CommandSpec(
        name: "serve", summary: "Serve the HTTP API: launch, follow and cancel the pipelines of a directory",
        usage: "runner serve [--pipelines DIR] [--listen HOST:PORT] [--threads N] [--max-client-connections N] [--header-timeout DURATION] [--shutdown-grace DURATION] [--retention DURATION] [--gc-every DURATION]",
        options: [.init(long: "pipelines", short: nil, valueName: "DIR", help: "the pipelines served, by name (default: pipelines)"),
                  .init(long: "listen", short: nil, valueName: "HOST:PORT", help: "IPv4 address and port (default 127.0.0.1:8080; port 0: any free one)"),
                  .init(long: "threads", short: nil, valueName: "N", help: "request worker threads (default 4)"),
                  .init(long: "max-client-connections", short: nil, valueName: "N",
                        help: "connections one client address may hold at once; more are closed (default 128; 0: no limit)"),
                  .init(long: "header-timeout", short: nil, valueName: "DURATION",
                        help: "how long a request's headers may take, whole (default 10s; 0s: no deadline)"),
                  .init(long: "shutdown-grace", short: nil, valueName: "DURATION",
                        help: "on SIGTERM, how long runs may go on finishing before the server exits (default 10s)"),
                  .init(long: "retention", short: nil, valueName: "DURATION", help: "keep finished runs this long where the pipeline sets no retention (default 3d)"),
                  .init(long: "gc-every", short: nil, valueName: "DURATION", help: "how often finished runs past retention are removed (default 1h)")],
        positionalName: "nothing", positionals: 0...0,
        discussion: """
        State is kept in .runner/ (or $RUNNER_HOME), shared with the CLI. Pipelines that do not load are reported and left out;
        SIGHUP loads the directory again. Unfinished runs whose runner stopped are finished at start. Schedules
        (triggers.schedule) fire with trigger 'schedule'; firings missed while the server was down run once at start. On SIGTERM or Ctrl-C the
        server stops accepting and exits once its runs finished or the grace passed; runs still going are finished by the
        next start (steps in flight run again: at least once).
        """)

    /// What the options ask for.
    struct Settings {
        var host: String
        var port: UInt16
        var server = HTTPServer.Options()
        var grace: Duration = .seconds(10)
        var retention = GarbageCollector.defaultRetention
        var gcEvery: Duration = .seconds(3600)
        var directory: String
    }

    static func run(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> ExitCode {
        let console = context.console
        let renderer = DiagnosticRenderer(colors: console.colorsError)
        let settings: Settings
        switch self.settings(arguments, context) {
        case .success(let read): settings = read
        case .failure(let usage): return RunnerCLI.usageError(usage, context)
        }
        let service: RunService
        switch RunsCommand.service(context) {
        case .failure(let d): return RunsCommand.fail(d, context, RunsCommand.exitCode(opening: d))
        case .success(let s): service = s
        }
        let api = APIServer(pipelinesDirectory: settings.directory, service: service)
        report(api.reload(), console: console, renderer: renderer)
        // Signals are handled before the server says it listens: a SIGHUP or SIGTERM sent as
        // soon as it is up is never lost (or fatal).
        let stop = DispatchSemaphore(value: 0)
        let sources = handleSignals(api, console: console, renderer: renderer, stop: stop)
        raiseOpenFileLimit()
        let server = HTTPServer { request in api.handle(request) }
        // Tokens and payloads are hashed with libcrypto, loaded on first use: no server without it.
        if let why = APIServer.cryptoUnavailable {
            console.err(renderer.render(Diagnostic(.internalError, "runner serve: \(why)", hint: "install OpenSSL 3's libcrypto (Debian: libssl3)")))
            return .internalError
        }
        do {
            try server.start(address: settings.host, port: settings.port, options: settings.server)
        } catch {
            console.err(renderer.render(Diagnostic(.usage, "runner serve: \(error)", hint: "choose another --listen address or port")))
            return .internalError
        }
        // The signal sources must live until the server stops: `_ = sources` after the call did
        // not keep them (an optimized build released them at once, and SIGTERM was ignored).
        withExtendedLifetime(sources) { serve(api, server, settings, console: console, stop: stop) }
        return .success
    }

    /// Serves until SIGTERM or Ctrl-C, then lets the runs finish for the grace.
    static func serve(_ api: APIServer, _ server: HTTPServer, _ settings: Settings, console: Console,
                      stop: DispatchSemaphore) {
        let resumed = api.resumeUnfinished()
        let count = api.pipelineNames.count
        console.out("runner serve: \(count) pipeline\(count == 1 ? "" : "s") from \(settings.directory)"
                    + (resumed.isEmpty ? "" : "; finishing \(resumed.count) interrupted run\(resumed.count == 1 ? "" : "s")")
                    + "; listening on http://\(settings.host):\(server.port)\n")
        let stopping = StopFlag()
        do {
            try api.runSchedules(gcInterval: Double(settings.gcEvery.components.seconds),
                                 defaultRetention: settings.retention,
                                 log: { console.out("runner serve: \($0)\n") }, stop: { stopping.isSet })
        } catch {
            RunnerCLI.exitIfOutOfThreads(error)
        }
        stop.wait()
        stopping.set()
        server.stop()
        let deadline = Date().addingTimeInterval(Double(settings.grace.components.seconds))
        while api.executing > 0 && Date() < deadline { usleep(50_000) }
        let left = api.executing
        console.out("runner serve: stopped" + (left > 0 ? "; \(left) run\(left == 1 ? "" : "s") left for the next start to finish" : "") + "\n")
    }

    /// SIGHUP reloads the pipelines; SIGTERM and SIGINT signal `stop`.
    static func handleSignals(_ api: APIServer, console: Console, renderer: DiagnosticRenderer,
                              stop: DispatchSemaphore) -> [DispatchSourceSignal] {
        [SIGTERM, SIGINT, SIGHUP].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                if signalNumber == SIGHUP {
                    report(api.reload(), console: console, renderer: renderer)
                    console.out("runner serve: reloaded \(api.pipelineNames.count) pipelines\n")
                } else {
                    stop.signal()
                }
            }
            source.resume()
            return source
        }
    }

    /// The options read, or the usage error of the first that is wrong.
    static func settings(_ arguments: ParsedArguments, _ context: RunnerCLI.Context) -> Result<Settings, UsageError> {
        let listen = arguments.value("listen") ?? "127.0.0.1:8080"
        guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]) else {
            return .failure(UsageError(message: "--listen takes HOST:PORT, got '\(listen)'",
                                       hint: "e.g. --listen 127.0.0.1:8080"))
        }
        let directory = URL(fileURLWithPath: arguments.value("pipelines") ?? "pipelines",
                            relativeTo: URL(fileURLWithPath: context.currentDirectory)).standardizedFileURL.path
        var settings = Settings(host: String(listen[..<colon]), port: port, directory: directory)
        if let text = arguments.value("threads") {
            guard let n = UInt32(text), (1...256).contains(n) else {
                return .failure(UsageError(message: "--threads takes 1 to 256, got '\(text)'", hint: nil))
            }
            settings.server.threads = n
        }
        if let failure = limits(arguments, &settings.server) { return .failure(failure) }
        if let text = arguments.value("shutdown-grace") {
            guard case .success(let d) = DurationText.parse(text) else {
                return .failure(UsageError(message: "--shutdown-grace takes a duration like 30s, got '\(text)'",
                                           hint: nil))
            }
            settings.grace = d
        }
        for option in ["retention", "gc-every"] {
            guard let text = arguments.value(option) else { continue }
            guard case .success(let d) = DurationText.parse(text), d > .zero else {
                return .failure(UsageError(message: "--\(option) takes a duration like 3d or 1h, got '\(text)'",
                                           hint: nil))
            }
            if option == "retention" { settings.retention = d } else { settings.gcEvery = d }
        }
        return .success(settings)
    }

    /// `--max-client-connections` and `--header-timeout` into the server's options.
    static func limits(_ arguments: ParsedArguments, _ options: inout HTTPServer.Options) -> UsageError? {
        if let text = arguments.value("max-client-connections") {
            guard let n = UInt32(text), n <= options.connectionLimit else {
                return UsageError(message: "--max-client-connections takes 0 to \(options.connectionLimit), got '\(text)'",
                                  hint: "0 lifts the limit, e.g. behind a proxy where every client has its address")
            }
            options.perClientConnectionLimit = n
        }
        if let text = arguments.value("header-timeout") {
            guard case .success(let d) = DurationText.parse(text), d == .zero || (d >= .seconds(1) && d <= .seconds(3600)) else {
                return UsageError(message: "--header-timeout takes a duration from 1s to 1h (or 0s), got '\(text)'", hint: "e.g. --header-timeout 10s")
            }
            options.headerTimeout = d
        }
        return nil
    }

    static func report(_ problems: [(file: String, diagnostics: [Diagnostic])], console: Console, renderer: DiagnosticRenderer) {
        for (file, diagnostics) in problems {
            console.err("runner serve: not serving \(file):\n")
            diagnostics.forEach { console.err(renderer.render($0)) }
        }
    }
}

/// Set once, read from any thread.
final class StopFlag: @unchecked Sendable {
    private let lock = Lock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

extension ServeCommand {
    /// The soft limit on open files up to the hard one (at most 65,536): at the usual 1,024,
    /// the 1,000 connections the server takes and the pipes of the runs it executes did not
    /// fit, and libmicrohttpd stopped accepting until a descriptor closed. The steps of a
    /// server's runs inherit the raised soft limit (only descriptors they open themselves
    /// count against it).
    static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let wanted = min(limit.rlim_max, 65_536)
        guard limit.rlim_cur < wanted else { return }
        limit.rlim_cur = wanted
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
