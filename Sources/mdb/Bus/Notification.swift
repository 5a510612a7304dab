import Foundation

extension MDatabase {
    /// The body every notifier is sent for an event: the wire event, a
    /// one-line summary a person can act on, a short title and the run.
    /// Built once, when the outbox is filled, and sent byte for byte (a
    /// webhook's signature covers exactly these bytes).
    static func notificationPayload(key: String, notifierId: Int64, event: Event, runTitle: String,
                                    runStatus: String, durationMs: Int64?,
                                    diffCounts: (files: Int, additions: Int, deletions: Int)? = nil) -> String {
        let (title, summary) = describe(event: event, runTitle: runTitle, durationMs: durationMs, diffCounts: diffCounts)
        var out = "{\"delivery\":"
        JSONValue.writeString(key, to: &out)
        out += ",\"notifier_id\":\(notifierId),\"summary\":"
        JSONValue.writeString(summary, to: &out)
        out += ",\"title\":"
        JSONValue.writeString(title, to: &out)
        out += ",\"run\":"
        JSONValue.object([("id", .int(event.runId)), ("title", .string(runTitle)), ("status", .string(runStatus))])
            .write(to: &out)
        out += ",\"event\":" + event.wireJSON + "}"
        return out
    }

    /// A short title and a one-line summary of an event: what is asked,
    /// verbatim (cut at `Defaults.notificationSummaryMaxCharacters`) with a
    /// diff's file and line counts, or how a run ended.
    static func describe(event: Event, runTitle: String, durationMs: Int64?,
                         diffCounts: (files: Int, additions: Int, deletions: Int)? = nil) -> (title: String, summary: String) {
        let data = event.dataValue
        let run = runTitle.isEmpty ? "run \(event.runId)" : "run \(event.runId) “\(short(runTitle, 60))”"
        switch event.type {
        case EventType.approvalRequested:
            let asked = data["title"]?.stringValue ?? ""
            let kind = data["kind"]?.stringValue ?? "ask"
            // The counts go first: a long question is cut at the end, never the numbers.
            let counts = diffCounts.map { " [\($0.files) file\($0.files == 1 ? "" : "s"), +\($0.additions) −\($0.deletions)]" } ?? ""
            return ("Approval needed", short("\(run) asks (\(kind))\(counts): \(asked)", Defaults.notificationSummaryMaxCharacters))
        case EventType.runFinished:
            let status = data["status"]?.stringValue ?? "finished"
            var text = "\(run) \(status)"
            if let code = data["exit_code"]?.intValue { text += " (exit \(code))" }
            if let signal = data["signal"]?.intValue { text += " (signal \(signal))" }
            if let durationMs, durationMs >= 0 { text += " in \(duration(durationMs))" }
            return ("Run \(status)", short(text, Defaults.notificationSummaryMaxCharacters))
        case EventType.approvalResolved:
            let decision = data["decision"]?.stringValue ?? "resolved"
            return ("Approval \(decision)", short("\(run): approval \(data["approval_id"]?.intValue ?? 0) \(decision)",
                                                  Defaults.notificationSummaryMaxCharacters))
        case EventType.notice:
            return ("Notice", short("\(run): \(data["text"]?.stringValue ?? "")", Defaults.notificationSummaryMaxCharacters))
        default:
            return (event.type, short("\(run): \(event.type)", Defaults.notificationSummaryMaxCharacters))
        }
    }

    /// `text` cut to `limit` characters, with an ellipsis when cut.
    private static func short(_ text: String, _ limit: Int) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count <= limit ? line : String(line.prefix(limit - 1)) + "…"
    }

    /// `1h 2m`, `3m 4s`, `5.6s`.
    private static func duration(_ ms: Int64) -> String {
        let s = ms / 1000
        if s >= 3600 { return "\(s / 3600)h \(s % 3600 / 60)m" }
        if s >= 60 { return "\(s / 60)m \(s % 60)s" }
        return String(format: "%.1fs", Double(ms) / 1000)
    }
}
