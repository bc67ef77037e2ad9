import Testing
@testable import RunnerCore

/// A path param's root as written (`${VAR}`, `${VAR:-default}`, `{actor}`), and its values as
/// written, without the disk.
@Suite struct PathRootTests {
    func parsed(_ text: String) -> PathRoot? { try? PathRoot.parse(text).get() }

    func expanded(_ text: String, _ environment: [String: String] = [:], actor: String? = "alice") -> String? {
        parsed(text).flatMap { try? $0.expand(environment: environment, actor: actor).get() }
    }

    @Test func partsAreParsed() throws {
        let root = try #require(parsed("${STORAGE:-../data}/users/{actor}/$HOME"))
        #expect(root.parts == [.variable(name: "STORAGE", fallback: "../data"), .text("/users/"), .actor,
                               .text("/$HOME")])
        #expect(root.namesActor && root.source == "${STORAGE:-../data}/users/{actor}/$HOME")
        #expect(parsed("/srv/data")?.parts == [.text("/srv/data")])
        #expect(parsed("${A}${B:-}")?.parts
                == [.variable(name: "A", fallback: nil), .variable(name: "B", fallback: "")])
        #expect(parsed("a{b")?.parts == [.text("a{b")], "a brace that closes nothing is text")
    }

    @Test(arguments: [
        ("", "the root is empty"),
        ("data/${STORAGE", "'${' in the root is not closed by '}'"),
        ("${}", "'${}' in the root does not name a variable"),
        ("${1X}", "'${1X}' in the root does not name a variable"),
        ("${A-b}", "'${A-b}' in the root does not name a variable"),
        ("data/{user}", "unknown placeholder '{user}' in the root"),
        ("${A:-x/{actor}}", "the default of '${A...}' in the root holds '{'"),
    ])
    func malformedRootsAreRefused(_ text: String, _ message: String) {
        guard case .failure(let problem) = PathRoot.parse(text) else {
            Issue.record("\(text) parsed")
            return
        }
        #expect(problem.message == message)
        #expect(!problem.hint.isEmpty)
    }

    @Test func variablesAndTheActorAreExpanded() {
        #expect(expanded("${S:-data}/{actor}") == "data/alice")
        #expect(expanded("${S:-data}/{actor}", ["S": "/srv/s"]) == "/srv/s/alice")
        #expect(expanded("${S:-data}/{actor}", ["S": ""]) == "data/alice", "empty takes the default")
        #expect(expanded("${S}/x", ["S": "/srv"]) == "/srv/x")
        #expect(expanded("${S}/x") == nil, "unset without a default")
        #expect(expanded("${S}/x", ["S": ""]) == nil, "empty without a default")
        #expect(expanded("data", actor: nil) == "data", "no {actor}: no actor needed")
        #expect(expanded("data/{actor}", actor: nil) == nil)
    }

    @Test(arguments: ["alice", "bob.smith@example.com", "a-b_c.1", "..a", "a..b", "cli:root"])
    func safeActors(_ actor: String) {
        #expect(PathRoot.isSafeSegment(actor))
    }

    @Test(arguments: ["", ".", "..", "a/b", "../x", "a b", "é", "a\u{0}", "a\\b", "~"])
    func unsafeActors(_ actor: String) {
        #expect(!PathRoot.isSafeSegment(actor))
        #expect(parsed("data/{actor}")?.expand(environment: [:], actor: actor) != .success("data/\(actor)"))
    }

    @Test(arguments: [
        ("", "a path cannot be empty"),
        ("/etc/passwd", "path '/etc/passwd' is absolute"),
        ("..", "path '..' leaves its root"),
        ("a/../b", "path 'a/../b' leaves its root"),
        ("a/..", "path 'a/..' leaves its root"),
        (".", "path '.' has an empty or '.' segment"),
        ("a/./b", "path 'a/./b' has an empty or '.' segment"),
        ("a//b", "path 'a//b' has an empty or '.' segment"),
        ("a/", "path 'a/' has an empty or '.' segment"),
    ])
    func pathsAsWrittenThatLeaveTheRoot(_ path: String, _ message: String) {
        #expect(ParamResolver.relativePathProblem(path)?.message == message)
    }

    @Test(arguments: ["a", "dump1/backup-x.zip", "..a/b..", ".hidden/f", "a b/c", "日本/語"])
    func pathsAsWrittenThatStayBelowIt(_ path: String) {
        #expect(ParamResolver.relativePathProblem(path) == nil)
    }

    /// A path param takes text and strings, keeps them as given, and checks them as written.
    @Test func aPathParamResolvesLikeAString() {
        let rules = ParamKind.PathRules(root: PathRoot.pipelineFolder)
        let specs = [Make.param("dir", .path(rules), error: "INVALID_PATH"),
                     Make.param("files", .list(.init(items: .path(rules))))]
        let ok = ParamResolver.resolve([(name: "dir", input: .text("a/b")),
                                        (name: "files", input: .text("x,y/z"))], against: specs)
        #expect(ok.diagnostics.isEmpty && ok.values["dir"] == .string("a/b"))
        #expect(ok.values["files"] == .list([.string("x"), .string("y/z")]))
        let bad = ParamResolver.resolve([(name: "dir", input: .value(.int(3))),
                                         (name: "files", input: .value(.list([.string("../x")])))], against: specs)
        #expect(bad.diagnostics.map(\.message) == ["param 'dir': expected path, got int 3",
                                                   "param 'files': item \"../x\": path '../x' leaves its root"])
        #expect(bad.diagnostics.first?.displayCode == "INVALID_PATH")
    }
}
