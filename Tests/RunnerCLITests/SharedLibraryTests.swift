import CCryptoShim
import CCurlShim
import CGit2Shim
import CHTTPDShim
import CShimSupport
import Foundation
import Testing

/// The shims open their libraries by SONAME (`dlopen("libcurl.so.4")`, ...) and look up every
/// function they call: a Debian release that bumps one fails here, not at a user's command.
@Suite struct SharedLibraryTests {
    @Test func libgit2Opens() {
        #expect(runner_git() != nil, "\(String(cString: runner_git_error()))")
    }

    @Test func libmicrohttpdOpens() {
        let problem = runner_http_load().map { String(cString: $0) }
        #expect(problem == nil, "\(problem ?? "")")
    }

    @Test func libcryptoOpens() {
        let problem = runner_crypto_error().map { String(cString: $0) }
        #expect(runner_crypto_load() == 1, "\(problem ?? "")")
    }

    @Test func libcurlOpens() {
        let problem = runner_curl_load().map { String(cString: $0) }
        #expect(problem == nil, "\(problem ?? "")")
    }

    /// The loader every shim uses: the first SONAME that opens; each failure named as a user
    /// reads it, with the package to install or the function the library lacks.
    @Test func theFirstSONAMEThatOpensIsUsedAndFailuresSayWhy() {
        var error = [CChar](repeating: 0, count: 256)
        let message = { String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        let missing = withCStrings(["libnothing.so.9"]) {
            runner_dlopen_first($0, 1, "libnothing", "nothing9", &error, 256)
        }
        #expect(missing == nil)
        #expect(message().hasPrefix("cannot load libnothing (install nothing9): libnothing.so.9"), "\(message())")

        error = [CChar](repeating: 0, count: 256)
        let libc = withCStrings(["libnothing.so.9", "libc.so.6"]) {
            runner_dlopen_first($0, 2, "libc", "libc6", &error, 256)
        }
        #expect(libc != nil, "\(message())")
        let slots = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 2)
        slots.initialize(repeating: nil, count: 2)
        defer { slots.deallocate() }
        let found = withCStrings(["strlen", "no_such_function"]) { names in
            let symbols = [runner_symbol(name: names[0], slot: slots), runner_symbol(name: names[1], slot: slots + 1)]
            return runner_dlsym_all(libc, symbols, 2, "libc", &error, 256)
        }
        #expect(found == 0 && slots[0] != nil)
        #expect(message() == "libc has no no_such_function")
    }

    /// `body` given the C strings of `texts`, alive while it runs.
    private func withCStrings<T>(_ texts: [String], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
        let copies = texts.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        return body(copies.map { UnsafePointer($0) })
    }
}
