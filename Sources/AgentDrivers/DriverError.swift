/// Why a driver could not go on; each text says what happened and what to do.
public enum DriverError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The agent closed its stdout (it exited or crashed) while the driver waited for it.
    case agentExited(waitingFor: String)
    /// The agent answered a JSON-RPC request with an error.
    case remote(method: String, code: Int64, message: String)
    /// The agent answered in a shape the protocol does not allow.
    case badResponse(method: String, detail: String)
    /// Writing to the agent's stdin failed (it closed it or exited).
    case stdinClosed(String)
    /// A path the agent named is outside the run's workspace (or cannot be resolved).
    case outsideWorkspace(path: String, reason: String)
    /// A request the agent made cannot be served (an unknown terminal, a bad argument).
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .agentExited(let what):
            return "the agent exited while M waited for \(what); its stderr in the run's output says why"
        case .remote(let method, let code, let message):
            return "the agent refused \(method) (error \(code)): \(message)"
        case .badResponse(let method, let detail):
            return "the agent's answer to \(method) is not what the protocol says: \(detail); is the command an agent of this kind?"
        case .stdinClosed(let why):
            return "cannot write to the agent's stdin (\(why)): the agent stopped reading or exited"
        case .outsideWorkspace(let path, let reason):
            return "\(path) is refused: \(reason); an agent may only reach files inside its run's workspace"
        case .invalidRequest(let why):
            return why
        }
    }
}
