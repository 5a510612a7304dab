import Foundation

/// Why a Claude Code hook payload could not be read.
public struct ClaudeHookError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What is wrong, for a person to act on.
    public var description: String
}

/// Claude Code's PreToolUse hook, translated both ways: the JSON Claude sends on stdin becomes an
/// `ask` request for the run's executor, and the person's decision becomes the JSON Claude reads
/// back (`hookSpecificOutput.permissionDecision`). Pure: no socket, no files, no workspace.
public enum ClaudeHook {
    /// The tools whose call is shown as a change to files (kind `diff`).
    static let editTools: Set<String> = ["Edit", "MultiEdit", "Write"]

    /// The approval request for a PreToolUse payload: `Bash` → kind `command` (title: the command,
    /// body: its description), `Edit`/`MultiEdit`/`Write` → kind `diff` (body: the change as a
    /// unified diff, or the new file's content), any other tool → kind `ask` with its JSON input.
    public static func request(fromPayload data: Data) throws -> AgentRequest {
        guard let payload = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ClaudeHookError(description: "the hook input is not a JSON object; mcli hook claude reads Claude Code's PreToolUse payload on stdin")
        }
        guard let tool = payload["tool_name"] as? String, !tool.isEmpty else {
            throw ClaudeHookError(description: "the hook input has no tool_name; is this a PreToolUse hook?")
        }
        let input = payload["tool_input"] as? [String: Any] ?? [:]
        let cwd = payload["cwd"] as? String
        switch tool {
        case "Bash":
            guard let command = input["command"] as? String, !command.isEmpty else {
                throw ClaudeHookError(description: "the Bash call has no tool_input.command")
            }
            return AgentRequest(op: AgentRequest.ask, text: command, kind: "command",
                                body: (input["description"] as? String) ?? "")
        case _ where editTools.contains(tool):
            guard let path = input["file_path"] as? String, !path.isEmpty else {
                throw ClaudeHookError(description: "the \(tool) call has no tool_input.file_path")
            }
            let shown = display(path, cwd: cwd)
            let body: String
            switch tool {
            case "Write":
                body = unified(path: shown, old: nil, new: input["content"] as? String ?? "")
            case "MultiEdit":
                let edits = input["edits"] as? [[String: Any]] ?? []
                body = edits.map { unified(path: shown, old: $0["old_string"] as? String ?? "", new: $0["new_string"] as? String ?? "") }
                    .joined()
            default:
                body = unified(path: shown, old: input["old_string"] as? String ?? "", new: input["new_string"] as? String ?? "")
            }
            return AgentRequest(op: AgentRequest.ask, text: "\(tool) \(shown)", kind: "diff", body: body)
        default:
            let json = (try? JSONSerialization.data(withJSONObject: input, options: [.sortedKeys, .withoutEscapingSlashes]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return AgentRequest(op: AgentRequest.ask, text: "Allow \(tool)?", kind: "ask", body: json)
        }
    }

    /// The hook's answer for a decided approval: allow when approved, deny otherwise (rejected,
    /// expired, canceled), with who decided and their note as the reason Claude reads.
    public static func output(for response: AgentResponse) -> Data {
        let decision = response.decision ?? "unknown"
        let who = response.by.map { " by \($0)" } ?? ""
        var reason: String
        switch decision {
        case "approved": reason = "approved in M\(who)"
        case "rejected": reason = "rejected in M\(who)"
        case "expired": reason = "nobody decided in time in M (the approval expired)"
        default: reason = "the approval was \(decision) in M"
        }
        if let note = response.note, !note.isEmpty { reason += ": \(note)" }
        return encode(decision == "approved" ? "allow" : "deny", reason: reason)
    }

    /// The hook's answer outside an M run: let Claude Code ask in its own UI.
    public static func outsideRun() -> Data {
        encode("ask", reason: "not inside an M run (M_AGENT_SOCKET is not set): asking here instead")
    }

    static func encode(_ decision: String, reason: String) -> Data {
        let object: [String: Any] = ["hookSpecificOutput": [
            "hookEventName": "PreToolUse", "permissionDecision": decision, "permissionDecisionReason": reason,
        ]]
        var data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        data.append(0x0A)
        return data
    }

    /// `path` relative to the session's folder when it is inside it.
    static func display(_ path: String, cwd: String?) -> String {
        guard let cwd, !cwd.isEmpty else { return path }
        let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// A unified diff of one replacement (`old` nil: a whole new file's content).
    static func unified(path: String, old: String?, new: String) -> String {
        func lines(_ text: String) -> [Substring] {
            text.isEmpty ? [] : Array(text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0))
        }
        let before = old.map(lines) ?? [], after = lines(new)
        // A path outside the session's folder stays absolute, without git's a/ b/ prefixes.
        let (a, b) = path.hasPrefix("/") ? (path, path) : ("a/" + path, "b/" + path)
        var text = "--- \(old == nil ? "/dev/null" : a)\n+++ \(b)\n"
        text += "@@ -\(before.isEmpty ? 0 : 1),\(before.count) +\(after.isEmpty ? 0 : 1),\(after.count) @@\n"
        for line in before { text += "-\(line)\n" }
        for line in after { text += "+\(line)\n" }
        return text
    }
}
