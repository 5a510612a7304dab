import Foundation
import Logging
import magent
import MProcess
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
        listener = try UnixSocket.listen(path: path, backlog: 16)
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
