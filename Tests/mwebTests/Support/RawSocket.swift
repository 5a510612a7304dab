import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection, for what a well-behaved client library will not
/// do: lie about Content-Length, or open a WebSocket and never read from it.
final class RawSocket: @unchecked Sendable {
    let fd: Int32

    /// Connects to 127.0.0.1:port; a small receive buffer makes a client that
    /// never reads fall behind quickly.
    init(port: Int, receiveBufferBytes: Int32? = nil) throws {
        // Close-on-exec: a server a test starts meanwhile must not inherit it.
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        if var size = receiveBufferBytes {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { close(fd); throw TestFailure("connect() failed") }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw TestFailure("send() failed: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    /// True once the peer has closed the connection (nothing left to read, end of stream).
    var closedByPeer: Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    }

    /// Reads until `done` holds for what arrived, the peer closes, or 20 s pass.
    func receive(until done: (String) -> Bool) throws -> String {
        Data(try receiveBytes { done(String(decoding: $0, as: UTF8.self)) }).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// Reads bytes until `done` holds, the peer closes, or 20 s pass.
    func receiveBytes(until done: ([UInt8]) -> Bool = { _ in false }) throws -> [UInt8] {
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !done(all) {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            // A signal (SIGCHLD from another test's process) must not end the read.
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            all += chunk[0..<n]
        }
        return all
    }
}
