import FoundationEssentials
import Glibc
import RunnerCore

/// C strings of a shared environment, made once per run (not 40 strdup-and-free a launch).
final class CStrings: @unchecked Sendable {
    let pointers: [UnsafeMutablePointer<CChar>?]
    init(_ strings: [String]) { pointers = strings.map { strdup($0) } }
    deinit { pointers.forEach { free($0) } }
}

/// Calls `body` with a NULL-terminated environment: the shared lines (C strings kept with them)
/// and the launch's own.
func withEnvironment<R>(_ shared: SharedEnvironment?, _ own: [String],
                        _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    guard let shared else { return withCStrings(own, body) }
    let base = shared.prepared { CStrings(shared.lines) }
    var pointers = base.pointers
    let extra = own.map { strdup($0) }
    defer { extra.forEach { free($0) } }
    pointers.append(contentsOf: extra)
    pointers.append(nil)
    return withExtendedLifetime(base) { pointers.withUnsafeBufferPointer { body($0.baseAddress!) } }
}

/// Calls `body` with a NULL-terminated C array of the strings.
public func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
