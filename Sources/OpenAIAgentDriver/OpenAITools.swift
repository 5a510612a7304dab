import AgentDrivers
import Foundation
import mdb

/// The built-in agent's tools, run in the workspace: `shell` (through the host, inside the run's
/// sandbox), `read_file`, `write_file` (both confined to the workspace) and `ask_user` (a `question`
/// approval whose note is the answer). Each call first asks a person when the policy says so.
struct OpenAITools: Sendable {
    /// What a tool call came to, for the model and for the `tool.result` event.
    struct Outcome: Sendable {
        var status: String
        var output: String
    }

    /// A person's cancel ended the call (the turn stops).
    struct Canceled: Error {}

    let host: any DriverHost
    let config: OpenAIAgentConfig

    /// The tools' JSON schema, as chat completions take it.
    static let definitions: JSONValue = .array([
        function("shell", "Run a shell command (sh -c) in the workspace and get its output and exit code.",
                 ["command": ["type": "string", "description": "The command line."]], required: ["command"]),
        function("read_file", "Read a text file of the workspace.",
                 ["path": ["type": "string", "description": "Path relative to the workspace."]], required: ["path"]),
        function("write_file", "Create or replace a text file of the workspace with the given content.",
                 ["path": ["type": "string", "description": "Path relative to the workspace."],
                  "content": ["type": "string", "description": "The file's whole new content."]], required: ["path", "content"]),
        function("ask_user", "Ask the person steering you a question and wait for the answer.",
                 ["question": ["type": "string", "description": "The question."]], required: ["question"]),
    ])

    private static func function(_ name: String, _ description: String, _ properties: JSONValue, required: [String]) -> JSONValue {
        ["type": "function", "function": ["name": .string(name), "description": .string(description),
                                          "parameters": ["type": "object", "properties": properties,
                                                         "required": .array(required.map(JSONValue.string))]]]
    }

    /// Runs one call: approval when the policy wants one, then the tool.
    func run(_ call: ChatCompletion.ToolCall) async throws -> Outcome {
        guard let arguments = try? JSONValue.parse(call.arguments.isEmpty ? "{}" : call.arguments), case .object = arguments else {
            return Outcome(status: "failed", output: "the arguments are not a JSON object: \(call.arguments)")
        }
        do {
            switch call.name {
            case "shell": return try await shell(arguments["command"]?.stringValue ?? "")
            case "read_file": return try await read(arguments["path"]?.stringValue ?? "")
            case "write_file": return try await write(arguments["path"]?.stringValue ?? "", arguments["content"]?.stringValue ?? "")
            case "ask_user": return try await ask(arguments["question"]?.stringValue ?? "")
            default: return Outcome(status: "failed", output: "there is no tool \(call.name); use shell, read_file, write_file or ask_user")
            }
        } catch let error as DriverError {
            if case .outsideWorkspace = error {
                await host.emit("notice", ["level": "warning", "text": .string("refused the agent's \(call.name): \(error)")])
            }
            return Outcome(status: "failed", output: error.description)
        }
    }

    /// Asks when `needed`; nil to go ahead, else the outcome to report (rejected), or throws on cancel.
    private func approve(_ needed: Bool, _ request: @autoclosure () -> ApprovalRequest) async throws -> Outcome? {
        guard needed else { return nil }
        let decision = await host.requestApproval(request())
        switch decision.status {
        case .approved: return nil
        case .canceled, .pending: throw Canceled()
        case .rejected, .expired:
            let note = decision.note.map { ": \($0)" } ?? ""
            return Outcome(status: "rejected", output: "the person rejected this\(note). Do not retry it as it was.")
        }
    }

    private func confinement() throws -> WorkspaceConfinement { try WorkspaceConfinement(workspace: host.workspace) }

    private func shell(_ command: String) async throws -> Outcome {
        guard !command.isEmpty else { return Outcome(status: "failed", output: "no command given") }
        let ask: Bool
        switch config.approvalPolicy {
        case .never: ask = false
        case .onWrite, .always: ask = true
        case .allowedPrefixes(let prefixes):
            ask = !prefixes.contains { command == $0 || command.hasPrefix($0 + " ") }
        }
        if let rejected = try await approve(ask, ApprovalRequest(kind: "command", title: command, body: command,
                                                                  payload: ["protocol": "openai", "tool": "shell"])) {
            return rejected
        }
        let directory = try confinement().realWorkspace
        // Only what a shell needs: the API key and M's own environment stay out.
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory, "LANG": "C.UTF-8"]
        let process = try host.startProcess(["/bin/sh", "-c", command], environment: environment, directory: directory)
        let captured = CapturedProcess(process: process, limit: config.toolOutputLimitBytes)
        let exit = try await withThrowingTaskGroup(of: CapturedProcess.ExitStatus?.self) { group in
            group.addTask { await captured.waitForExit() }
            group.addTask {
                try await Task.sleep(for: .seconds(config.shellTimeoutSeconds))
                return nil
            }
            defer { group.cancelAll() }
            do {
                let first = try await group.next() ?? nil
                if first == nil { captured.kill() }
                return first
            } catch {
                captured.kill()
                throw error
            }
        }
        let (output, truncated, _) = captured.snapshot()
        var text = truncated ? "[earlier output cut]\n" + output : output
        guard let exit else {
            return Outcome(status: "failed", output: text + "\n[killed after \(config.shellTimeoutSeconds) s]")
        }
        text += exit.exitCode.map { "\n[exit code \($0)]" } ?? "\n[ended by \(exit.signal ?? "a signal")]"
        return Outcome(status: exit.exitCode == 0 ? "completed" : "failed", output: text)
    }

    private func read(_ path: String) async throws -> Outcome {
        let confinement = try confinement()
        _ = try confinement.resolve(path)
        if let rejected = try await approve(config.approvalPolicy == .always,
                                            ApprovalRequest(kind: "ask", title: "Read \(path)", body: path,
                                                            payload: ["protocol": "openai", "tool": "read_file"])) {
            return rejected
        }
        let text = try confinement.read(path)
        let bytes = Array(text.utf8)
        if bytes.count > config.toolOutputLimitBytes {
            return Outcome(status: "completed", output: String(decoding: bytes.prefix(config.toolOutputLimitBytes), as: UTF8.self) + "\n[cut]")
        }
        return Outcome(status: "completed", output: text)
    }

    private func write(_ path: String, _ content: String) async throws -> Outcome {
        let confinement = try confinement()
        let real = try confinement.resolve(path)
        let old = FileManager.default.fileExists(atPath: real) ? try? confinement.read(path) : nil
        let ask = config.approvalPolicy != .never
        if let rejected = try await approve(ask, ApprovalRequest(kind: "diff", title: "Write \(path)",
                                                                  body: UnifiedDiff.replacing(path: path, old: old, new: content),
                                                                  payload: ["protocol": "openai", "tool": "write_file", "path": .string(path)])) {
            return rejected
        }
        try confinement.write(path, content: content)
        return Outcome(status: "completed", output: "wrote \(content.utf8.count) bytes to \(path)")
    }

    private func ask(_ question: String) async throws -> Outcome {
        let decision = await host.requestApproval(ApprovalRequest(kind: "question", title: question, body: "",
                                                                  payload: ["protocol": "openai", "tool": "ask_user"]))
        switch decision.status {
        case .approved: return Outcome(status: "completed", output: "the person answered: \(decision.note ?? "yes")")
        case .rejected, .expired: return Outcome(status: "completed", output: "the person declined\(decision.note.map { ": \($0)" } ?? "")")
        case .canceled, .pending: throw Canceled()
        }
    }
}
