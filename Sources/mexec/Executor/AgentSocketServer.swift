import Foundation
import Logging
import magent
#if canImport(Glibc)
import Glibc
#endif

/// The per-run capability: a Unix socket in the run's private (0700)
/// directory, named to the agent by `M_AGENT_SOCKET`. Whoever can reach it
/// acts for this run only, and only through the ops `AgentRequest` defines;
/// none of them decides an approval. Connections are served on threads
/// because an `ask` blocks for as long as a person takes to answer.
final class AgentSocketServer: @unchecked Sendable {
    /// The socket's path.
    let path: String
    private let listener: Int32
    private let stopped = LockedFlag()

    /// Binds and listens at `path` (mode 0600).
    init(path: String) throws {
        self.path = path
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SpawnError(description: "cannot create the agent socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw SpawnError(description: "the agent socket path \(path) is too long for a Unix socket; use a shorter database directory")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, chmod(path, 0o600) == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw SpawnError(description: "cannot listen on the agent socket \(path): \(reason)")
        }
        listener = fd
    }

    /// Serves connections on background threads until `stop()`.
    func start(logger: Logger, handler: @escaping @Sendable (AgentRequest) -> AgentResponse) {
        let listener = self.listener, stopped = self.stopped
        let thread = Thread {
            while !stopped.isSet {
                var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                if Glibc.poll(&pfd, 1, 200) <= 0 { continue }
                let client = accept(listener, nil, nil)
                if client < 0 { continue }
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                let connection = Thread {
                    defer { close(client) }
                    guard let line = AgentLine.read(fd: client) else { return }
                    let response: AgentResponse
                    if let request = try? JSONDecoder().decode(AgentRequest.self, from: line) {
                        response = handler(request)
                    } else {
                        response = AgentResponse(ok: false, error: "the request is not valid JSON for the agent protocol")
                    }
                    _ = AgentLine.write(fd: client, AgentLine.encode(response))
                }
                connection.name = "agent-connection"
                connection.start()
            }
            close(listener)
        }
        thread.name = "agent-socket"
        thread.start()
    }

    /// Stops accepting and removes the socket file.
    func stop() {
        stopped.set()
        unlink(path)
    }
}
