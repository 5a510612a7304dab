/// How the built-in agent runs: which API and model, when it asks, and its limits. Defaults in one
/// place, with their units in their names.
public struct OpenAIAgentConfig: Sendable {
    /// The API's base URL, up to and including `/v1` (`https://api.openai.com/v1`,
    /// `http://127.0.0.1:11434/v1` for Ollama, `http://127.0.0.1:8080/v1` for llama.cpp).
    public var baseURL: String
    /// The model's name as the API knows it.
    public var model: String
    /// The API key, sent only as `Authorization: Bearer`; never in an event, a log or the environment
    /// of anything the agent runs. Nil for servers that need none.
    public var apiKey: String?
    /// When a tool call needs a person's approval.
    public var approvalPolicy: OpenAIApprovalPolicy
    /// Model calls allowed in one turn; the turn ends with `stop_reason: "max_steps"` after them.
    public var maxSteps: Int
    /// `max_tokens` for each model call (nil: the API's default).
    public var maxTokens: Int?
    /// Attempts for one model call when the API answers 429 or 5xx (or the connection fails).
    public var maxAttempts: Int
    /// The wait before the first retry; it doubles for each further one (a `Retry-After` header wins).
    public var firstRetryDelayMilliseconds: Int
    /// How long one model call may take, streaming included.
    public var requestTimeoutSeconds: Int
    /// How long until the API's answer starts (its headers); longer counts as a failed attempt (the
    /// HTTP client would otherwise keep retrying a refused connection until `requestTimeoutSeconds`).
    public var responseStartTimeoutSeconds: Int
    /// How long a `shell` tool call may run before it is killed.
    public var shellTimeoutSeconds: Int
    /// Output of a tool kept for the model and the event (the rest is cut, and the cut said).
    public var toolOutputLimitBytes: Int
    /// The system prompt.
    public var systemPrompt: String

    /// A configuration with M's defaults.
    public init(baseURL: String, model: String, apiKey: String? = nil, approvalPolicy: OpenAIApprovalPolicy = .onWrite,
                maxSteps: Int = 30, maxTokens: Int? = nil, maxAttempts: Int = 5, firstRetryDelayMilliseconds: Int = 500,
                requestTimeoutSeconds: Int = 300, responseStartTimeoutSeconds: Int = 120, shellTimeoutSeconds: Int = 600, toolOutputLimitBytes: Int = 64 << 10,
                systemPrompt: String = OpenAIAgentConfig.defaultSystemPrompt) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        self.approvalPolicy = approvalPolicy
        self.maxSteps = maxSteps
        self.maxTokens = maxTokens
        self.maxAttempts = maxAttempts
        self.firstRetryDelayMilliseconds = firstRetryDelayMilliseconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.responseStartTimeoutSeconds = responseStartTimeoutSeconds
        self.shellTimeoutSeconds = shellTimeoutSeconds
        self.toolOutputLimitBytes = toolOutputLimitBytes
        self.systemPrompt = systemPrompt
    }

    /// What the agent is told about its situation.
    public static let defaultSystemPrompt = """
        You are a coding agent working in a workspace folder on a server, steered by a person from a phone. \
        Use the tools to look at and change files and to run commands in the workspace; paths are relative \
        to it. A person may reject a tool call: then do not retry it, take their note into account. Use \
        ask_user when you need a decision. Finish with a short summary of what you did.
        """
}
