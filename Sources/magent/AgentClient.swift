import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why an agent-side command could not reach its executor.
public enum AgentClientError: Error, CustomStringConvertible, Equatable, Sendable {
    case notInRun(variable: String)
    case cannotConnect(path: String, reason: String)
    case connectionClosed
    case badResponse

    public var description: String {
        switch self {
        case .notInRun(let variable):
            return "this command must run inside an M run (\(variable) is not set)"
        case .cannotConnect(let path, let reason):
            return "cannot reach this run's executor at \(path) (\(reason)); the run may have ended"
        case .connectionClosed:
            return "the run's executor closed the connection before answering; the run may have ended"
        case .badResponse:
            return "the run's executor sent an answer this mcli does not understand; update M"
        }
    }
}

/// The agent side of the per-run capability: a connection to the executor's
/// Unix socket, found from the environment. It never touches the database.
public struct AgentClient: Sendable {
    /// The socket path.
    public let path: String

    public init(path: String) { self.path = path }

    /// The client for the run this process is part of, from `M_AGENT_SOCKET`.
    public static func fromEnvironment(variable: String = "M_AGENT_SOCKET") throws -> AgentClient {
        guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty else {
            throw AgentClientError.notInRun(variable: variable)
        }
        return AgentClient(path: path)
    }

    /// Sends one request and blocks until its one response.
    public func send(_ request: AgentRequest) throws -> AgentResponse {
        let fd: Int32
        do { fd = try UnixSocket.connect(path: path) } catch let failure as UnixSocket.Failure {
            throw AgentClientError.cannotConnect(path: path, reason: failure.description)
        }
        defer { close(fd) }
        guard AgentLine.write(fd: fd, AgentLine.encode(request)) else { throw AgentClientError.connectionClosed }
        guard let line = AgentLine.read(fd: fd) else { throw AgentClientError.connectionClosed }
        guard let response = try? JSONDecoder().decode(AgentResponse.self, from: line) else {
            throw AgentClientError.badResponse
        }
        return response
    }
}
