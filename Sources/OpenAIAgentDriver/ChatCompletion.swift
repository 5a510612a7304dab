import mdb

/// One model call's answer, gathered from the stream.
struct ChatCompletion: Sendable {
    /// A function call the model asked for.
    struct ToolCall: Sendable, Equatable {
        var id: String
        var name: String
        var arguments: String
    }

    var content = ""
    var toolCalls: [ToolCall] = []
    var finishReason: String?
    var usage: JSONValue?
}
