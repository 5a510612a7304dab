import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import mdb

/// Streaming chat completions (`POST {baseURL}/chat/completions` with `stream: true`) over
/// AsyncHTTPClient, retried with exponential backoff on 429, 5xx and failed connections. The key goes
/// only into the `Authorization` header; any text that leaves this type has it scrubbed.
struct ChatCompletionsClient: Sendable {
    let config: OpenAIAgentConfig
    /// Told about each retry, for a notice.
    let onRetry: @Sendable (String) async -> Void

    func complete(messages: [JSONValue], tools: JSONValue) async throws -> ChatCompletion {
        var body: [(String, JSONValue)] = [("model", .string(config.model)), ("messages", .array(messages)), ("tools", tools),
                                           ("stream", true), ("stream_options", ["include_usage": true])]
        if let maxTokens = config.maxTokens { body.append(("max_tokens", .int(Int64(maxTokens)))) }
        let payload = JSONValue.object(body).text
        var last = ""
        for attempt in 1...max(config.maxAttempts, 1) {
            var request = HTTPClientRequest(url: config.baseURL.trimmingSuffix("/") + "/chat/completions")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Accept", value: "text/event-stream")
            if let key = config.apiKey, !key.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
            request.body = .bytes(ByteBuffer(string: payload))
            let retryAfter: Int?
            do {
                let response = try await start(request)
                let status = Int(response.status.code)
                if status == 200 { return try await read(response) }
                let text = scrub(String(buffer: try await response.body.collect(upTo: 64 << 10)))
                guard status == 429 || status >= 500 else { throw OpenAIAgentError.refused(status: status, body: text) }
                last = "HTTP \(status)"
                retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }.map { $0 * 1000 }
            } catch let error as OpenAIAgentError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                try Task.checkCancellation()
                last = scrub("\(error)")
                retryAfter = nil
            }
            guard attempt < config.maxAttempts else { break }
            let delay = min(retryAfter ?? config.firstRetryDelayMilliseconds << (attempt - 1), 60_000)
            await onRetry("the model API answered \(last); retrying in \(delay) ms (attempt \(attempt + 1) of \(config.maxAttempts))")
            try await Task.sleep(for: .milliseconds(delay))
        }
        throw OpenAIAgentError.unavailable(attempts: config.maxAttempts, last: last)
    }

    /// Sends the request and returns once the answer's headers are in, or throws after
    /// `responseStartTimeoutSeconds`.
    private func start(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        let limit = config.responseStartTimeoutSeconds
        return try await withThrowingTaskGroup(of: HTTPClientResponse?.self) { group in
            group.addTask { try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(config.requestTimeoutSeconds))) }
            group.addTask {
                try await Task.sleep(for: .seconds(limit))
                return nil
            }
            defer { group.cancelAll() }
            guard let response = try await group.next() ?? nil else { throw ResponseStartTimeout(seconds: limit) }
            return response
        }
    }

    /// No answer started in time.
    struct ResponseStartTimeout: Error, CustomStringConvertible {
        let seconds: Int
        var description: String { "no answer within \(seconds) s" }
    }

    /// Reads the server-sent events of one answer.
    private func read(_ response: HTTPClientResponse) async throws -> ChatCompletion {
        var completion = ChatCompletion()
        var calls: [Int: ChatCompletion.ToolCall] = [:]
        var pending: [UInt8] = []
        var done = false
        func line(_ bytes: ArraySlice<UInt8>) throws {
            let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("data:") else { return }
            let data = text.dropFirst(5).trimmingCharacters(in: .whitespaces)
            if data == "[DONE]" { done = true; return }
            guard let chunk = try? JSONValue.parse(data) else { throw OpenAIAgentError.badStream("a data line is not JSON") }
            if let error = chunk["error"], error != .null {
                throw OpenAIAgentError.badStream(scrub(error["message"]?.stringValue ?? error.text))
            }
            if let usage = chunk["usage"], usage != .null { completion.usage = usage }
            guard case .array(let choices) = chunk["choices"] ?? .null, let choice = choices.first else { return }
            let delta = choice["delta"] ?? .null
            if let content = delta["content"]?.stringValue { completion.content += content }
            if case .array(let toolCalls) = delta["tool_calls"] ?? .null {
                for call in toolCalls {
                    let index = Int(call["index"]?.intValue ?? 0)
                    var known = calls[index] ?? ChatCompletion.ToolCall(id: "", name: "", arguments: "")
                    if let id = call["id"]?.stringValue { known.id = id }
                    if let name = call["function"]?["name"]?.stringValue { known.name += name }
                    if let arguments = call["function"]?["arguments"]?.stringValue { known.arguments += arguments }
                    calls[index] = known
                }
            }
            if let reason = choice["finish_reason"]?.stringValue { completion.finishReason = reason }
        }
        for try await buffer in response.body {
            pending.append(contentsOf: buffer.readableBytesView)
            while let newline = pending.firstIndex(of: 0x0A) {
                try line(pending[..<newline])
                pending.removeSubrange(...newline)
            }
            if done { break }
        }
        if !pending.isEmpty { try line(pending[...]) }
        completion.toolCalls = calls.sorted { $0.key < $1.key }.map(\.value).enumerated().map { index, call in
            var call = call
            if call.id.isEmpty { call.id = "call_\(index)" }
            return call
        }
        return completion
    }

    /// `text` without the API key in it.
    func scrub(_ text: String) -> String {
        guard let key = config.apiKey, key.count >= 4 else { return text }
        return text.replacingOccurrences(of: key, with: "[key]")
    }
}
