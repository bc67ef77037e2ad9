import Foundation
import Testing
import RunnerCore
import RunnerStore
import RunnerTestSupport

/// A store implementation the conformance suite runs against: a name and a way to make a new,
/// empty store (`RunStoreConformanceTests.make` removes it after the test). A backend added
/// later (PostgreSQL: a schema of its own per store) appends itself to `all`.
struct StoreBackend: Sendable, CustomTestStringConvertible {
    var name: String
    var make: @Sendable () throws -> StoreUnderTest

    var testDescription: String { name }

    static let all: [StoreBackend] = [.sqlite, .inMemory]

    static let sqlite = StoreBackend(name: "SQLite") {
        let dir = try temporaryDirectory("conformance")
        let path = dir.appendingPathComponent("state.db").path
        return StoreUnderTest(store: try SQLiteRunStore(path: path), directory: dir) { try SQLiteRunStore(path: path) }
    }

    static let inMemory = StoreBackend(name: "in-memory") {
        let store = InMemoryRunStore()
        return StoreUnderTest(store: store, directory: nil) { store }
    }
}

/// A new store, and how to open another handle on the same state, as another process (another
/// connection) would have it.
final class StoreUnderTest: @unchecked Sendable {
    let store: any RunStateStore
    private let directory: URL?
    private let connect: @Sendable () throws -> any RunStateStore

    init(store: any RunStateStore, directory: URL?, connect: @escaping @Sendable () throws -> any RunStateStore) {
        self.store = store
        self.directory = directory
        self.connect = connect
    }

    func anotherConnection() throws -> any RunStateStore { try connect() }

    /// Removes what the store made on disk.
    func remove() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }
}

/// A directory of a test's own (the test removes it).
func temporaryDirectory(_ prefix: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

func sampleRun(_ id: String = "20261123-000000-000001", pipeline: String = "docs",
               at: Date = Date(timeIntervalSince1970: 1_000)) -> RunRecord {
    RunRecord(id: RunID(id), pipeline: pipeline, pipelineFile: "p.yaml", definition: "version: 1", trigger: .cli,
              params: ["targetRef": .string("main"), "n": .int(3)], parallelism: 2, createdAt: at)
}

let sampleSteps = [
    StepRecord(name: "build", step: "build", item: nil, section: "main", position: 0),
    StepRecord(name: "promote[a]", step: "promote", item: "a", section: "main", position: 1),
]

/// Runs `body` on `count` threads at once, off the cooperative pool (a store waiting for another
/// connection's lock blocks its thread); returns what they threw, as text.
func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) async throws -> [String] {
    try await offPool {
        let failures = Collected<String>()
        DispatchQueue.concurrentPerform(iterations: count) { worker in
            do { try body(worker) } catch { failures.add("\(error)") }
        }
        return failures.values
    }
}
