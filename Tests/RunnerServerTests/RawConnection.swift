import Foundation

/// A TCP connection to a test server that sends exactly the bytes it is given (URLSession
/// would fix a malformed request, or refuse to send it) and reads what comes back.
final class RawConnection {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`, from `source` (e.g. "127.0.0.2": a second client) when
    /// given. Nil when the connection cannot be made.
    /// `receiveBuffer`: the socket's SO_RCVBUF (a client that reads nothing then holds little).
    init?(port: UInt16, from source: String? = nil, receiveBuffer: Int32? = nil) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if let source, Self.call(fd, Self.address(source, 0), bind) != 0 {
            close(fd)
            return nil
        }
        guard Self.call(fd, Self.address("127.0.0.1", port), connect) == 0 else {
            close(fd)
            return nil
        }
    }

    deinit { close(fd) }

    static func address(_ ip: String, _ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr(ip)
        return address
    }

    static func call(_ fd: Int32, _ address: sockaddr_in, _ body: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = address
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// False when the server has closed (or reset) the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// What the server sends within `seconds`, and whether it closed the connection (then
    /// reading stops at once).
    func read(for seconds: Double) -> (text: String, closed: Bool) {
        var bytes: [UInt8] = []
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return (String(decoding: bytes, as: UTF8.self), false) }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left * 1000) + 1) > 0 else { continue }
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got <= 0 { return (String(decoding: bytes, as: UTF8.self), true) }
            bytes.append(contentsOf: buffer[0..<got])
        }
    }

    /// One response: read until its body is whole (by its Content-Length), the server closes
    /// the connection, or `seconds` pass.
    func readResponse(for seconds: Double) -> (text: String, closed: Bool) {
        var text = ""
        let deadline = Date().addingTimeInterval(seconds)
        while deadline.timeIntervalSinceNow > 0 {
            let (more, closed) = read(for: min(0.05, max(0, deadline.timeIntervalSinceNow)))
            text += more
            if closed { return (text, true) }
            if let end = text.range(of: "\r\n\r\n"), let length = Self.contentLength(text[..<end.lowerBound]),
               text.utf8.count - text[..<end.upperBound].utf8.count >= length {
                return (text, false)
            }
        }
        return (text, false)
    }

    static func contentLength(_ head: Substring) -> Int? {
        for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
            return Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// True while the server holds the connection open: it has neither closed nor reset it
    /// (what it sent may be waiting to be read).
    var isOpen: Bool {
        var byte: UInt8 = 0
        let got = recv(fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        return got > 0 || (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    }
}
