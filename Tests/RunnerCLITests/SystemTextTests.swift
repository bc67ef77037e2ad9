import Foundation
import Testing
@testable import RunnerCLI

/// The CLI's own small replacements for what Foundation's full module did.
@Suite struct SystemTextTests {
    @Test func pathSegmentsAreEscapedByteByByte() {
        #expect(URLText.escaped("docs-publish_v1.2~x") == "docs-publish_v1.2~x")
        #expect(URLText.escaped("a/b c") == "a%2Fb%20c")
        #expect(URLText.escaped("東") == "%E6%9D%B1")
        #expect(URLText.escaped("?&=#%\n") == "%3F%26%3D%23%25%0A")
        // What the server decodes is what was escaped.
        #expect(URLText.escaped("run 1/2").removingPercentEncoding == "run 1/2")
    }

    @Test func oneDecimalAsPrintfWrote() {
        #expect(oneDecimal(0) == "0.0")
        #expect(oneDecimal(12.34) == "12.3")
        #expect(oneDecimal(12.36) == "12.4")
        #expect(oneDecimal(0.05) == "0.1")
        #expect(oneDecimal(1234.0) == "1234.0")
        #expect(oneDecimal(-2.25) == "-2.3")
    }

    @Test func paddingCutsOrFills() {
        #expect("ab".padded(to: 4) == "ab  ")
        #expect("abcdef".padded(to: 4) == "abcd")
        #expect("東京".padded(to: 3) == "東京 ")
    }

    @Test func directoriesAreToldFromFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("systemtext-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("p.yaml")
        try Data("x".utf8).write(to: file)
        #expect(FileSystem.isDirectory(dir.path))
        #expect(!FileSystem.isDirectory(file.path))
        #expect(!FileSystem.isDirectory(dir.appendingPathComponent("missing").path))
    }
}
