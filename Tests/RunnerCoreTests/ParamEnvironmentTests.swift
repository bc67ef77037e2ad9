import Testing
@testable import RunnerCore

/// A param reaches its step as one environment variable (`PARAM_<NAME>=value`): a value that
/// cannot be one — it holds a NUL, which ends the C string execve copies, or it is longer than
/// Linux lets one such string be — is refused with the param's own code, from every front door.
@Suite struct ParamEnvironmentTests {
    /// Linux's MAX_ARG_STRLEN: one `NAME=value` string with its NUL.
    static let limit = 131_072

    let specs: [ParamSpec] = [
        Make.param("reason", .string(.init(pattern: "[^;]+")), error: "INVALID_REASON"),
        Make.param("mode", .enumeration(values: ["fast", "slow"]), error: "INVALID_MODE"),
        Make.param("ref", .gitref(repo: "."), error: "INVALID_REF"),
        Make.param("since", .timestamp, error: "INVALID_SINCE"),
        Make.param("limit", .int(min: nil, max: nil), error: "INVALID_LIMIT"),
        Make.param("ratio", .number(min: nil, max: nil)),
        Make.param("dry", .bool),
        Make.param("targets", .list(.init(items: .string(.init()))), error: "INVALID_TARGETS"),
        Make.param("body", .string(.init())),
    ]

    func resolve(_ name: String, _ input: ParamInput) -> ParamResolver.Resolution {
        ParamResolver.resolve([(name: name, input: input)], against: specs)
    }

    @Test(arguments: [
        ("reason", ParamInput.value(.string("ok\u{0}; rm -rf /")), "INVALID_REASON"),
        ("reason", .text("ok\u{0}x"), "INVALID_REASON"),
        ("mode", .value(.string("fast\u{0}")), "INVALID_MODE"),
        ("ref", .value(.string("main\u{0}--upload-pack=x")), "INVALID_REF"),
        ("since", .value(.string("2026-02-01\u{0}")), "INVALID_SINCE"),
        ("limit", .text("1\u{0}"), "INVALID_LIMIT"),
        ("ratio", .text("0.5\u{0}"), "RUN2104"),
        ("dry", .text("true\u{0}"), "RUN2104"),
        ("targets", .value(.list([.string("a"), .string("b\u{0}c")])), "INVALID_TARGETS"),
        ("targets", .text("a,b\u{0}c"), "INVALID_TARGETS"),
        ("targets", .text("[\"a\", \"b\\u0000c\"]"), "INVALID_TARGETS"),
    ])
    func aNULIsRefusedWithTheParamsCode(_ name: String, _ input: ParamInput, _ code: String) {
        let r = resolve(name, input)
        #expect(r.diagnostics.map(\.code) == [.paramContainsNUL], "\(name): \(r.diagnostics.map(\.message))")
        #expect(r.diagnostics.first?.displayCode == code)
        #expect(r.diagnostics.first?.message.contains("\u{0}") == false, "the message never carries the NUL")
        #expect(r.diagnostics.first?.message.contains("'\(name)'") == true)
        #expect(r.values[name] == nil)
    }

    @Test func theNULsPlaceIsNamedAndTheValueIsNotEchoed() {
        let r = resolve("targets", .value(.list([.string("a"), .string("secret\u{0}")])))
        let message = r.diagnostics.first?.message ?? ""
        #expect(message.contains("item 2"), "\(message)")
        #expect(!message.contains("secret"), "\(message)")
    }

    /// `PARAM_BODY=` is 11 bytes, the NUL one more: the value may have 131,060 bytes.
    @Test func aValueFitsOneEnvironmentVariableExactly() {
        let room = Self.limit - "PARAM_BODY=".utf8.count - 1
        #expect(resolve("body", .value(.string(String(repeating: "x", count: room)))).diagnostics.isEmpty)
        let over = resolve("body", .value(.string(String(repeating: "x", count: room + 1))))
        #expect(over.diagnostics.map(\.code) == [.paramTooLarge])
        #expect(over.diagnostics.first?.message.contains("131,061 bytes") == true, "\(over.diagnostics.map(\.message))")
        #expect(over.diagnostics.first?.message.contains("$PARAM_BODY") == true)
    }

    /// Bytes, not characters: 65,531 two-byte characters are 131,062 bytes.
    @Test func theBoundIsInBytes() {
        let r = resolve("body", .value(.string(String(repeating: "é", count: 65_531))))
        #expect(r.diagnostics.map(\.code) == [.paramTooLarge])
        #expect(resolve("body", .value(.string(String(repeating: "é", count: 65_530)))).diagnostics.isEmpty)
    }

    /// A list is one variable, its items one a line: the joined text is what must fit.
    @Test func aListIsBoundedAsItsJoinedItems() {
        let room = Self.limit - "PARAM_TARGETS=".utf8.count - 1
        let item = String(repeating: "y", count: 999)
        let fits = Array(repeating: Value.string(item), count: room / 1000)
        #expect(resolve("targets", .value(.list(fits))).diagnostics.isEmpty)
        let over = resolve("targets", .value(.list(fits + [.string(item)])))
        #expect(over.diagnostics.map(\.code) == [.paramTooLarge])
        #expect(over.diagnostics.first?.displayCode == "INVALID_TARGETS")
        #expect(over.diagnostics.first?.message.contains("one per line") == true)
    }

    /// The bound comes before the pattern: a huge value is refused without matching it.
    @Test func aHugeValueIsRefusedBeforeItsPatternRuns() {
        let r = resolve("reason", .value(.string(String(repeating: "z", count: 1 << 20))))
        #expect(r.diagnostics.map(\.code) == [.paramTooLarge])
        #expect(r.diagnostics.first?.displayCode == "INVALID_REASON")
    }

    /// Defaults are checked by the same rules when the pipeline is validated.
    @Test func aDefaultWithANULOrTooLargeIsInvalid() {
        for bad in [Value.string("a\u{0}b"), .string(String(repeating: "x", count: Self.limit))] {
            let spec = Make.param("note", .string(.init()), default: bad)
            let problem = ParamResolver.validate(.value(bad), for: spec)
            guard case .failure(let p) = problem else {
                Issue.record("accepted")
                continue
            }
            #expect([DiagnosticCode.paramContainsNUL, .paramTooLarge].contains(p.code))
        }
    }
}
