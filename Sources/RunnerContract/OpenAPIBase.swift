import COpenAPI
import RunnerCore
import RunnerYAML

/// The runner's own routes, `schemas/openapi.yaml` as the binary was built with it (`COpenAPI`):
/// the document the pipelines' routes are added to.
public enum OpenAPIBase {
    /// Why the embedded document cannot be read (a build from a broken file).
    public struct Unreadable: Error, Sendable {
        public var diagnostics: [Diagnostic]
    }

    /// The document, read once.
    public static let document: Result<OpenAPIJSON, Unreadable> = read(yaml)

    /// The embedded bytes.
    public static var yaml: [UInt8] {
        guard let start = runner_openapi_yaml() else { return [] }
        return Array(UnsafeBufferPointer(start: start, count: runner_openapi_yaml_size()))
    }

    static func read(_ bytes: [UInt8]) -> Result<OpenAPIJSON, Unreadable> {
        let output = YAMLReader.read(bytes, file: "schemas/openapi.yaml")
        guard let root = output.root, !output.diagnostics.contains(where: \.isError) else {
            let problems = output.diagnostics.isEmpty
                ? [Diagnostic(.internalError, "schemas/openapi.yaml holds no document")] : output.diagnostics
            return .failure(Unreadable(diagnostics: problems))
        }
        return .success(OpenAPIJSON(yaml: root))
    }
}
