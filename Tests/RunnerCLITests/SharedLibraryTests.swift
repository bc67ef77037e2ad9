import CCryptoShim
import CCurlShim
import CGit2Shim
import CHTTPDShim
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
}
