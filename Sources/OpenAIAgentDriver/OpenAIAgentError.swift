/// Why the built-in agent could not go on; each text says what to do.
public enum OpenAIAgentError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The API refused the request (4xx other than 429): a wrong key, model or URL.
    case refused(status: Int, body: String)
    /// The API kept failing (429, 5xx, no connection) through every attempt.
    case unavailable(attempts: Int, last: String)
    /// The API's answer was not a chat-completions stream.
    case badStream(String)

    public var description: String {
        switch self {
        case .refused(let status, let body):
            return "the model API refused the request (HTTP \(status)): \(body); check the base URL, the model name and the key"
        case .unavailable(let attempts, let last):
            return "the model API failed \(attempts) times in a row (last: \(last)); try again later or check the server"
        case .badStream(let detail):
            return "the model API's answer is not an OpenAI-compatible chat-completions stream: \(detail)"
        }
    }
}
