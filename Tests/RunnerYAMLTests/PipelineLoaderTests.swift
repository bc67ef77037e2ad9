import Foundation
import RunnerTestSupport
import Testing
import RunnerCore
@testable import RunnerYAML

/// What `PipelineLoader` opens (issue 16, item 11): a FIFO named `x.yaml` once hung
/// `validate` and kept `serve` from listening; a file over the size bound was read before
/// it was refused.
@Suite(.serialized) struct PipelineLoaderTests {
    static let pipeline = "version: 1\nname: fifo\nsteps:\n  - name: a\n    run: echo a\n"

    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A FIFO with a writer that has written a whole pipeline and stays open: a loader that
    /// opens and reads it blocks until the writer closes. A watchdog closes it after 20 s, so
    /// such a loader ends (with the pipeline) instead of hanging the suite.
    @Test func aFIFOIsRefusedWithoutBlockingOnIt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("x.yaml").path
        #expect(mkfifo(path, 0o644) == 0)
        let reader = open(path, O_RDONLY | O_NONBLOCK)   // lets the writer open at once
        let writer = open(path, O_WRONLY | O_NONBLOCK)
        #expect(reader >= 0 && writer >= 0)
        defer { close(reader) }
        _ = Self.pipeline.withCString { write(writer, $0, strlen($0)) }
        let closer = OnceCloser(writer)
        DispatchQueue.global().asyncAfter(deadline: .now() + 20) { closer.close() }
        defer { closer.close() }

        let result = PipelineLoader.load(path: path)
        #expect(result.diagnostics.map(\.code) == [.notRegularFile], "\(result.diagnostics.map(\.message))")
        #expect(result.diagnostics.first?.message == "\(path) is a FIFO (named pipe), not a regular file")
        #expect(result.diagnostics.first?.subject == path)
    }

    @Test(arguments: [("/dev/null", "a character device"), ("/dev/zero", "a character device")])
    func aDeviceIsRefusedWithoutReadingIt(_ path: String, _ kind: String) {
        let result = PipelineLoader.load(path: path)
        #expect(result.diagnostics.map(\.code) == [.notRegularFile], "\(result.diagnostics.map(\.message))")
        #expect(result.diagnostics.first?.message == "\(path) is \(kind), not a regular file")
    }

    @Test func aSocketIsRefused() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.yaml").path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(PipelineLoader.load(path: path).diagnostics.map(\.code) == [.notRegularFile])
    }

    /// The size comes from `fstat`: a sparse file of 100 MiB is refused with its size, which
    /// reading at most the bound plus one byte could not know.
    @Test func aFileOverTheBoundIsRefusedByItsSize() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("big.yaml").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(Self.pipeline.utf8)))
        #expect(truncate(path, 100 << 20) == 0)
        let result = PipelineLoader.load(path: path)
        #expect(result.diagnostics.map(\.code) == [.fileTooLarge])
        #expect(result.diagnostics.first?.message == "\(path) is 104857600 bytes, larger than the limit of 16 MiB")
        #expect(result.diagnostics.first?.location == SourceLocation(file: path, line: 1, column: 1))
    }

    @Test func aFileAtTheBoundIsRead() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("p.yaml").path
        var limits = YAMLLimits.standard
        limits.maxFileBytes = Self.pipeline.utf8.count
        #expect(FileManager.default.createFile(atPath: path, contents: Data(Self.pipeline.utf8)))
        #expect(PipelineLoader.load(path: path, limits: limits).isValid)
        #expect(FileManager.default.createFile(atPath: path, contents: Data((Self.pipeline + "\n").utf8)))
        #expect(PipelineLoader.load(path: path, limits: limits).diagnostics.map(\.code) == [.fileTooLarge])
    }

    @Test func aDirectoryAndAMissingFileAreNamed() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(PipelineLoader.load(path: dir.path).diagnostics.first?.message == "\(dir.path) is a directory without .yaml files")
        #expect(PipelineLoader.load(path: dir.path + "/none.yaml").diagnostics.first?.message == "no such file: \(dir.path)/none.yaml")
    }
}

/// Closes a descriptor once, whichever of the test and its watchdog comes first.
private final class OnceCloser: @unchecked Sendable {
    private var fd: Int32
    private let lock = NSLock()
    init(_ fd: Int32) { self.fd = fd }
    func close() {
        lock.lock()
        defer { lock.unlock() }
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }
}
