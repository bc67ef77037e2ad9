import Testing
@testable import RunnerCore

@Suite struct ParamResolverTests {
    let specs: [ParamSpec] = [
        Make.param("trigger_mode", .enumeration(values: ["manual", "scheduled"]), required: true, error: "INVALID_TRIGGER_MODE"),
        Make.param("target_types", .list(.init(items: .enumeration(values: ["official", "appearance"]), minItems: 1, isUnique: true)),
                   required: true, error: "INVALID_TARGET"),
        Make.param("from_published_at", .timestamp, error: "INVALID_TIMESTAMP"),
        Make.param("dry_run", .bool, default: .bool(false)),
        Make.param("limit", .int(min: 1, max: 100)),
        Make.param("ratio", .number(min: 0, max: 1)),
        Make.param("reason", .string(.init(maxLength: 5, pattern: "[a-z]+"))),
        Make.param("ref", .gitref(repo: ".")),
    ]

    func resolve(_ inputs: [(String, ParamInput)]) -> ParamResolver.Resolution {
        ParamResolver.resolve(inputs.map { (name: $0.0, input: $0.1) }, against: specs)
    }

    @Test func validTextInputsAreTypedAndDefaultsApplied() {
        let r = resolve([("trigger_mode", .text("manual")), ("target_types", .text("official, appearance")),
                         ("from_published_at", .text("2026-02-01T09:00:00+09:00")), ("limit", .text("10")),
                         ("ratio", .text("0.5")), ("reason", .text("abc")), ("ref", .text("main"))])
        #expect(r.diagnostics.isEmpty, "\(r.diagnostics.map(\.message))")
        #expect(r.values["target_types"] == .list([.string("official"), .string("appearance")]))
        #expect(r.values["from_published_at"] == .string("2026-02-01T00:00:00Z"))
        #expect(r.values["dry_run"] == .bool(false))
        #expect(r.values["limit"] == .int(10))
        #expect(r.values["ratio"] == .number(0.5))
    }

    @Test func jsonListTextIsAccepted() {
        let r = resolve([("trigger_mode", .text("manual")), ("target_types", .text("[\"appearance\"]"))])
        #expect(r.diagnostics.isEmpty)
        #expect(r.values["target_types"] == .list([.string("appearance")]))
    }

    /// Seed 002's validation table: each bad input gets the param's own code.
    @Test(arguments: [
        ("target_types", ParamInput.text(""), "INVALID_TARGET"),
        ("target_types", .text("official,unknown"), "INVALID_TARGET"),
        ("target_types", .value(.list([])), "INVALID_TARGET"),
        ("target_types", .text("official,official"), "INVALID_TARGET"),
        ("target_types", .value(.string("official")), "INVALID_TARGET"),
        ("from_published_at", .text("yesterday"), "INVALID_TIMESTAMP"),
        ("trigger_mode", .text("manua"), "INVALID_TRIGGER_MODE"),
        ("trigger_mode", .value(.int(1)), "INVALID_TRIGGER_MODE"),
    ])
    func invalidValuesGetTheParamsCode(_ name: String, _ input: ParamInput, _ code: String) {
        var inputs: [(String, ParamInput)] = [("trigger_mode", .text("manual")), ("target_types", .text("official"))]
        inputs.removeAll { $0.0 == name }
        inputs.append((name, input))
        let r = resolve(inputs)
        #expect(r.diagnostics.count == 1, "\(r.diagnostics.map(\.message))")
        #expect(r.diagnostics.first?.contractCode == code)
        #expect(r.diagnostics.first?.code == .invalidParam)
        #expect(r.diagnostics.first?.displayCode == code)
    }

    @Test func missingAndUnknownParams() {
        let r = resolve([("trigger_mod", .text("manual"))])
        let codes = r.diagnostics.map(\.code)
        #expect(codes.filter { $0 == .missingParam }.count == 2)
        #expect(r.diagnostics.first { $0.code == .unexpectedParam }?.hint == "did you mean 'trigger_mode'?")
        #expect(r.diagnostics.first { $0.subject == "params.trigger_mode" }?.contractCode == "INVALID_TRIGGER_MODE")
    }

    @Test(arguments: [
        ("limit", ParamInput.text("0")), ("limit", .text("101")), ("limit", .text("ten")), ("limit", .value(.number(1.5))),
        ("ratio", .text("2")), ("reason", .text("toolong")), ("reason", .text("ABC")), ("dry_run", .text("yes")),
        ("ref", .text("-upload-pack=x")), ("ref", .text("a b")), ("ref", .text("")),
    ])
    func boundsAndTypes(_ name: String, _ input: ParamInput) {
        let r = resolve([("trigger_mode", .text("manual")), ("target_types", .text("official")), (name, input)])
        #expect(r.diagnostics.map(\.code) == [.invalidParam], "\(name)=\(input)")
    }

    @Test func jsonValuesAreStrictlyTyped() {
        let r = resolve([("trigger_mode", .value(.string("manual"))), ("target_types", .value(.list([.string("official")]))),
                         ("dry_run", .value(.string("true")))])
        #expect(r.diagnostics.map(\.subject) == ["params.dry_run"])
        let ok = resolve([("trigger_mode", .value(.string("manual"))), ("target_types", .value(.list([.string("official")]))),
                          ("ratio", .value(.int(1))), ("limit", .value(.number(3)))])
        #expect(ok.diagnostics.isEmpty)
        #expect(ok.values["ratio"] == .number(1))
        #expect(ok.values["limit"] == .int(3))
    }

    @Test func valuesAsStepsSeeThem() {
        #expect(Value.list([.string("a"), .string("b")]).environmentText == "a\nb")
        #expect(Value.bool(true).environmentText == "true")
        #expect(Value.number(2).environmentText == "2")
        #expect(Value.number(2.5).environmentText == "2.5")
        #expect(Value.null.environmentText == nil)
    }
}
