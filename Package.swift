// swift-tools-version: 6.0
// runner — a declarative pipeline runner. Foundation plus Debian C libraries only:
// every C library is reached through exactly one thin `.systemLibrary` target.
import PackageDescription

let package = Package(
    name: "runner",
    products: [
        .executable(name: "runner", targets: ["runner"]),
    ],
    targets: [
        // MARK: - C libraries (module maps only)

        /// libyaml's event parser (Debian libyaml-dev, pkg-config yaml-0.1).
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),

        /// SQLite (Debian libsqlite3-dev, pkg-config sqlite3): run state.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),

        /// What the shims below share: a library opened by the first of its SONAMEs that loads, and
        /// the functions a shim calls found in it, each failure said in the same words.
        .target(name: "CShimSupport"),

        /// libgit2 (Debian libgit2-dev): resolving refs, checkouts. Its header only: CGit2Shim
        /// loads the library the first time git is needed (linked, it and its dependencies
        /// slowed the start of every command: docs/DECISIONS.md, Binary).
        .systemLibrary(
            name: "CGit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        /// The libgit2 functions RunnerGit calls, found with dlsym on first use.
        .target(name: "CGit2Shim", dependencies: ["CGit2", "CShimSupport"]),

        /// libmicrohttpd (Debian libmicrohttpd-dev): the HTTP server. Its header only: the
        /// library is loaded by CHTTPDShim when a server starts (linked, it and GnuTLS slowed
        /// the start of every command).
        .systemLibrary(
            name: "CHTTPD",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        /// MHD_start_daemon is variadic (Swift cannot call it): a non-variadic start, and the
        /// request body collected across libmicrohttpd's callbacks, in C; loads the library.
        .target(name: "CHTTPDShim", dependencies: ["CHTTPD", "CShimSupport"]),

        /// libcrypto (Debian libssl-dev): SHA-256 of API tokens and request
        /// payloads, constant-time comparison, random tokens. Its headers only: CCryptoShim loads
        /// the library the first time the API needs it (linked, it slowed the start of every
        /// command).
        .systemLibrary(
            name: "CCrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        /// The libcrypto functions RunnerCrypto calls, found with dlsym on first use.
        .target(name: "CCryptoShim", dependencies: ["CCrypto", "CShimSupport"]),

        /// libcurl (Debian libcurl4-openssl-dev): the CLI's API client (`--server`). Its header
        /// only: CCurlShim loads the library at the first request (linked, it and its
        /// dependencies slowed the start of every command).
        .systemLibrary(
            name: "CCurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        /// One request with libcurl (whose setopt is variadic): method, URL, headers, body.
        .target(name: "CCurlShim", dependencies: ["CCurl", "CShimSupport"]),

        /// `schemas/openapi.yaml` (the runner's own routes) compiled in with C23 `#embed`: one
        /// source for the document, and the binary stays one file (docs/DECISIONS.md, OpenAPI).
        .target(name: "COpenAPI"),

        /// posix_spawn with a process group, a working directory and no inherited descriptors
        /// (GNU extensions Swift cannot see).
        .target(name: "CProcess"),

        // MARK: - Core (pure: no I/O)

        /// Model, diagnostics, DAG, validation, expressions, durations, cron, state machines.
        .target(name: "RunnerCore"),

        // MARK: - Shapes (pure: what the front doors write)

        /// The JSON shapes the CLI prints and the API answers; one streaming writer for a run.
        .target(name: "RunnerJSON", dependencies: ["RunnerCore"]),

        /// API contracts declared in pipelines: a request mapped to params, a template rendered
        /// over a run (pure: the server gathers the facts); the OpenAPI document of the runner's
        /// routes and the pipelines' (its generic part read from `COpenAPI` with `RunnerYAML`).
        .target(name: "RunnerContract", dependencies: ["COpenAPI", "RunnerCore", "RunnerJSON", "RunnerYAML"]),

        // MARK: - Adapters

        /// libyaml events -> located node tree -> typed `Pipeline` + diagnostics.
        .target(name: "RunnerYAML", dependencies: ["CYAML", "RunnerCore"]),

        /// libgit2 wrapper: ref resolution and checkout (the core's `RefResolver` port), the git
        /// hook file format, its installer, and the ref updates a hook is given.
        .target(name: "RunnerGit", dependencies: ["CGit2Shim", "RunnerCore"]),

        /// libcrypto wrapper: SHA-256, constant-time comparison, random bytes.
        .target(name: "RunnerCrypto", dependencies: ["CCryptoShim"]),

        /// SQLite wrapper, migrations, and the durable run store.
        .target(name: "RunnerStore", dependencies: ["CSQLite", "RunnerCore"]),

        /// The engine: launches, executes and resumes runs as the scheduler decides, records it
        /// all; reaches the store and git only through the core's ports (`RunStateStore`,
        /// `RefResolver`), whose adapters the front doors' composition root chooses.
        .target(name: "RunnerEngine", dependencies: ["CProcess", "RunnerCore", "RunnerYAML", "RunnerCrypto"]),

        /// HTTP on libmicrohttpd: the server wrapper, the router, the handlers.
        .target(name: "RunnerServer", dependencies: ["CHTTPDShim", "RunnerCore", "RunnerJSON", "RunnerContract", "RunnerYAML", "RunnerEngine", "RunnerCrypto"]),

        // MARK: - Front doors

        /// Subcommands, argument parsing and rendering; the composition root (`Composition`:
        /// SQLite for the store's ports, libgit2 for the git port).
        .target(name: "RunnerCLI", dependencies: ["CProcess", "CCurlShim", "RunnerCore", "RunnerJSON", "RunnerYAML", "RunnerStore", "RunnerEngine", "RunnerGit", "RunnerServer"]),
        /// The `runner` executable: `main.swift` only.
        .executableTarget(name: "runner", dependencies: ["RunnerCLI"]),

        // MARK: - Tests

        /// Helpers shared by the test targets (blocking work off the cooperative pool, the
        /// JSONEncoder reference a run's JSON is checked against), the in-memory run store
        /// every store role is checked against, and the engine's fakes (a launcher, its loop,
        /// a clock moved by hand, a store that fails on demand).
        .target(name: "RunnerTestSupport", dependencies: ["RunnerCore", "RunnerJSON"], path: "Tests/Support"),
        .testTarget(name: "RunnerCoreTests", dependencies: ["RunnerTestSupport", "RunnerCore"]),
        .testTarget(name: "RunnerGitTests", dependencies: ["RunnerTestSupport", "RunnerGit", "RunnerCore"]),
        .testTarget(name: "RunnerYAMLTests", dependencies: ["RunnerTestSupport", "RunnerYAML", "RunnerCore"]),
        .testTarget(name: "RunnerEngineTests", dependencies: ["RunnerTestSupport", "RunnerEngine", "RunnerCore", "RunnerYAML", "RunnerStore", "RunnerGit"]),
        .testTarget(name: "RunnerJSONTests", dependencies: ["RunnerTestSupport", "RunnerJSON", "RunnerCore"]),
        .testTarget(name: "RunnerContractTests", dependencies: ["RunnerTestSupport", "RunnerContract", "RunnerYAML", "RunnerCore"]),
        .testTarget(name: "RunnerStoreTests", dependencies: ["RunnerTestSupport", "RunnerStore", "RunnerCore"]),
        .testTarget(name: "RunnerServerTests", dependencies: ["RunnerTestSupport", "RunnerServer", "RunnerCrypto", "RunnerStore"]),
        .testTarget(
            name: "RunnerCLITests",
            dependencies: ["RunnerTestSupport", "RunnerCLI", "RunnerCore", "RunnerJSON", "RunnerYAML",
                           "CShimSupport", "CGit2Shim", "CHTTPDShim", "CCryptoShim", "CCurlShim"],
            resources: []
        ),
    ]
)

// Concrete generic types (a Dictionary of Strings, an Array of a struct) are made from mangled
// names by default: compact code, but the first use of each pair of type and protocol scans the
// binary's conformance records, a large part of a short command's CPU. With direct metadata
// accessors the witness tables are passed as they are known at compile time (docs/DECISIONS.md).
for target in package.targets where target.type != .system && (target.name.hasPrefix("Runner") || target.name == "runner") {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"]),
    ]
}
