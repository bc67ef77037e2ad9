import Foundation

/// Where the package's files are, for tests that read its fixtures and examples.
public enum Paths {
    /// The package root, found from this file's path.
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")
    public static let pipelines = packageRoot.appendingPathComponent("pipelines")
}
