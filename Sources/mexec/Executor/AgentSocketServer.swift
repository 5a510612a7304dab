import Foundation
import magent
import MProcess
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The per-run capability: a Unix socket in the run's private (0700)
/// directory, named to the agent by `M_AGENT_SOCKET`. Whoever can reach it
/// acts for this run only, and only through the ops `AgentRequest` defines;
/// none of them decides an approval. A service: `run()` accepts on a thread
/// of its own until cancelled, and serves each connection on a thread,
/// because an `ask` blocks for as long as a person takes to answer.
final class AgentSocketServer: Service, @unchecked Sendable {
    /// The socket's path.
    let path: String
    private let listener: Int32
    private let stopped = Atomic<Bool>(false)
    private let handler: @Sendable (AgentRequest) -> AgentResponse

    /// Binds and listens at `path` (mode 0600); `handler` answers each request.
    init(path: String, handler: @escaping @Sendable (AgentRequest) -> AgentResponse) throws {
        self.path = path
        self.handler = handler
        listener = try UnixSocket.listen(path: path, backlog: 16)
    }

    /// Serves connections until the task is cancelled; then the socket is closed and removed.
    func run() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let thread = Thread { [self] in
                    serve()
                    done.resume()
                }
                thread.name = "agent-socket"
                thread.start()
            }
        } onCancel: {
            stopped.store(true, ordering: .releasing)
            // Ends the thread's wait in accept(2).
            shutdown(listener, Int32(SHUT_RDWR))
            unlink(path)
        }
    }

    private func serve() {
        defer { close(listener) }
        while !stopped.load(ordering: .acquiring) {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno != EINTR && errno != ECONNABORTED && !stopped.load(ordering: .acquiring) { usleep(10_000) } // out of descriptors: not a spin
                continue
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            let connection = Thread { [handler] in
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
    }
}
