import Testing
@testable import RunnerCore

/// An invalid value of a secret param is never echoed in its diagnostic (issue 16, item 5e).
@Suite struct SecretParamProblemTests {
    func secret(_ name: String, _ kind: ParamKind) -> ParamSpec {
        var spec = Make.param(name, kind, error: "INVALID_SECRET")
        spec.isSecret = true
        return spec
    }

    @Test(arguments: [
        ("pin", ParamKind.int(min: 1, max: 99), ParamInput.text("123456789")),
        ("pin", ParamKind.int(min: 1, max: 99), ParamInput.value(.int(123456789))),
        ("token", ParamKind.string(.init(pattern: "tok-.*")), ParamInput.text("hunter2-secret")),
        ("token", ParamKind.string(.init(pattern: "tok-.*")), ParamInput.value(.string("hunter2\nsecret"))),
        ("mode", ParamKind.enumeration(values: ["a", "b"]), ParamInput.text("hunter2-secret")),
        ("keys", ParamKind.list(.init(items: .int(min: nil, max: nil))), ParamInput.text("1,hunter2-secret")),
        ("keys", ParamKind.list(.init(items: .string(.init(pattern: "k.*")))), ParamInput.value(.list([.string("k1"), .string("hunter2-secret")]))),
        ("flag", ParamKind.bool, ParamInput.text("hunter2-secret")),
    ])
    func theValueIsNotInTheMessage(name: String, kind: ParamKind, input: ParamInput) {
        let resolution = ParamResolver.resolve([(name: name, input: input)], against: [secret(name, kind)])
        let d = resolution.diagnostics.first
        #expect(d?.contractCode == "INVALID_SECRET")
        let text = [d?.message, d?.hint].compactMap { $0 }.joined(separator: " ")
        #expect(!text.contains("hunter2") && !text.contains("123456789"), "\(text)")
        #expect(text.contains("param '\(name)'"))
    }

    @Test func aValueThatIsNotSecretIsStillQuoted() {
        let resolution = ParamResolver.resolve([(name: "pin", input: .text("123456789"))],
                                               against: [Make.param("pin", .int(min: 1, max: 99))])
        #expect(resolution.diagnostics.first?.message.contains("123456789") == true)
    }
}
