import AgentDrivers
import Foundation
import mdb

/// One conversation of the built-in agent (see `OpenAIAgent`).
final class OpenAISession: Sendable {
    let host: any DriverHost
    let config: OpenAIAgentConfig
    let inbox: TurnInbox
    let client: ChatCompletionsClient
    let tools: OpenAITools
    /// The turn running now, canceled by a cancel (its HTTP call and tools honour it).
    private let current = Locked<Task<TurnEnd, Never>?>(nil)
    private let messages: Locked<[JSONValue]>

    enum TurnEnd: Sendable, Equatable {
        case done
        case canceled
        case failed(String)
    }

    init(host: any DriverHost, config: OpenAIAgentConfig) {
        self.host = host
        self.config = config
        inbox = TurnInbox(host: host)
        client = ChatCompletionsClient(config: config, onRetry: { text in
            await host.emit("notice", ["level": "info", "text": .string(text)])
        })
        tools = OpenAITools(host: host, config: config)
        messages = Locked([["role": "system", "content": .string(config.systemPrompt)]])
    }

    func run(prompt: String?) async -> DriverEnd {
        inbox.onCancel { [self] in current.withLock { $0 }?.cancel() }
        return await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.inbox.pump() }
            defer { group.cancelAll() }
            var next: TurnInbox.Next
            if let prompt, !prompt.isEmpty { next = .prompt(prompt) } else { next = await inbox.next() }
            while case .prompt(let text) = next {
                if inbox.canceled { return .canceled }
                inbox.setInTurn(true)
                // A task of its own so that a cancel can stop it; awaited at once.
                let turn = Task { await self.turn(text) }
                current.withLock { $0 = turn }
                if inbox.canceled { turn.cancel() }
                let end = await turn.value
                current.withLock { $0 = nil }
                inbox.setInTurn(false)
                switch end {
                case .done: break
                case .canceled: return .canceled
                case .failed(let why):
                    await host.emit("notice", ["level": "error", "text": .string(why)])
                    return .failed(why)
                }
                next = await inbox.next()
            }
            return next == .cancel ? .canceled : .finished
        }
    }

    /// One user turn: model calls and tool calls until the model answers without tools, or `maxSteps`.
    private func turn(_ text: String) async -> TurnEnd {
        messages.withLock { $0.append(["role": "user", "content": .string(text)]) }
        var input: Int64 = 0, output: Int64 = 0
        var stopReason = "max_steps"
        do {
            for _ in 0..<max(config.maxSteps, 1) {
                try Task.checkCancellation()
                let completion = try await client.complete(messages: messages.withLock { $0 }, tools: OpenAITools.definitions)
                input += completion.usage?["prompt_tokens"]?.intValue ?? 0
                output += completion.usage?["completion_tokens"]?.intValue ?? 0
                if !completion.content.isEmpty {
                    await host.emit("agent.message", ["role": "assistant", "text": .string(completion.content)])
                }
                var assistant: [(String, JSONValue)] = [("role", "assistant"), ("content", .string(completion.content))]
                if !completion.toolCalls.isEmpty {
                    assistant.append(("tool_calls", .array(completion.toolCalls.map { call in
                        ["id": .string(call.id), "type": "function",
                         "function": ["name": .string(call.name), "arguments": .string(call.arguments)]]
                    })))
                }
                messages.withLock { $0.append(.object(assistant)) }
                guard !completion.toolCalls.isEmpty else {
                    stopReason = completion.finishReason == "length" ? "max_tokens" : "end_turn"
                    break
                }
                for call in completion.toolCalls {
                    let arguments = (try? JSONValue.parse(call.arguments)) ?? .string(call.arguments)
                    await host.emit("tool.call", ["id": .string(call.id), "name": .string(call.name),
                                                  "title": .string(Self.title(call.name, arguments)), "input": arguments])
                    let outcome = try await tools.run(call)
                    await host.emit("tool.result", ["id": .string(call.id), "status": .string(outcome.status),
                                                    "output": .string(client.scrub(outcome.output))])
                    messages.withLock { $0.append(["role": "tool", "tool_call_id": .string(call.id), "content": .string(outcome.output)]) }
                }
            }
        } catch is CancellationError {
            stopReason = "cancelled"
        } catch is OpenAITools.Canceled {
            stopReason = "cancelled"
        } catch where Task.isCancelled {
            stopReason = "cancelled"
        } catch {
            await usage(input, output)
            return .failed(client.scrub("\(error)"))
        }
        if stopReason == "max_steps" {
            await host.emit("notice", ["level": "warning", "text": .string("the turn stopped after \(config.maxSteps) model calls (max steps)")])
        }
        await usage(input, output)
        await host.emit("agent.turn_end", ["stop_reason": .string(stopReason)])
        return stopReason == "cancelled" ? .canceled : .done
    }

    private func usage(_ input: Int64, _ output: Int64) async {
        guard input > 0 || output > 0 else { return }
        await host.emit("usage", ["input_tokens": .int(input), "output_tokens": .int(output)])
    }

    /// A tool call's one-line title.
    static func title(_ name: String, _ arguments: JSONValue) -> String {
        switch name {
        case "shell": return arguments["command"]?.stringValue ?? "shell"
        case "read_file": return "Read \(arguments["path"]?.stringValue ?? "?")"
        case "write_file": return "Write \(arguments["path"]?.stringValue ?? "?")"
        case "ask_user": return arguments["question"]?.stringValue ?? "ask_user"
        default: return name
        }
    }
}
