#if canImport(Glibc)
import Glibc
#endif

/// Unix stream sockets by path: the one place that fills a `sockaddr_un`.
/// Descriptors are close-on-exec, so agents and executors never inherit them.
public enum UnixSocket {
    /// Why a socket could not be set up; the text says which path and why.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Binds and listens at `path` with the given file mode, replacing a stale file.
    public static func listen(path: String, mode: mode_t = 0o600, backlog: Int32 = 64) throws -> Int32 {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "cannot create a socket for \(path): \(reason())") }
        let bound = withAddress(path) { address, length in bind(fd, address, length) }
        guard let bound else {
            close(fd)
            throw Failure(description: "the socket path \(path) is too long for a Unix socket; use a shorter database directory")
        }
        guard bound == 0, chmod(path, mode) == 0, Glibc.listen(fd, backlog) == 0 else {
            let why = reason()
            close(fd)
            throw Failure(description: "cannot listen on \(path): \(why)")
        }
        return fd
    }

    /// Connects to the socket at `path`; the descriptor is blocking.
    public static func connect(path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: reason()) }
        let connected = withAddress(path) { address, length in Glibc.connect(fd, address, length) }
        guard let connected else {
            close(fd)
            throw Failure(description: "path too long")
        }
        guard connected == 0 else {
            let why = reason()
            close(fd)
            throw Failure(description: why)
        }
        return fd
    }

    /// Writes all of `bytes`, retrying short writes; false if the peer is gone.
    public static func writeAll(fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// The process id of the peer of a connected socket (`SO_PEERCRED`).
    public static func peerProcess(fd: Int32) -> pid_t? {
        // `struct ucred` (Linux): Glibc only declares it under _GNU_SOURCE.
        struct Credentials { var pid: pid_t = 0; var uid: uid_t = 0; var gid: gid_t = 0 }
        var credentials = Credentials()
        var length = socklen_t(MemoryLayout<Credentials>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else { return nil }
        return credentials.pid
    }

    private static func withAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    private static func reason() -> String { String(cString: strerror(errno)) }
}
