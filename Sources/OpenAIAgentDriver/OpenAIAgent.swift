import AgentDrivers
import mdb

/// `agent: "openai"`: M's own agent loop over any OpenAI-compatible chat-completions API (hosted
/// APIs, Ollama, llama.cpp). No agent process: the loop runs in the executor, its tools run in the
/// workspace through the host. Each prompt or input is a user turn of up to `maxSteps` model calls.
public struct OpenAIAgent: Sendable {
    /// The run spec's `agent` value.
    public static let kind = "openai"

    /// The API, model, key, approval policy and limits.
    public let config: OpenAIAgentConfig

    /// An agent with this configuration.
    public init(config: OpenAIAgentConfig) {
        self.config = config
    }

    /// Holds the conversation until `eof` (then `.finished`), a cancel (`.canceled`) or an API that
    /// cannot be reached or refuses (`.failed`).
    public func run(host: any DriverHost, prompt: String?) async -> DriverEnd {
        await OpenAISession(host: host, config: config).run(prompt: prompt)
    }
}
