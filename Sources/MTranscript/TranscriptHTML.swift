import Foundation
import mdb

/// A run as one self-contained HTML page, readable with no scripts (the page
/// has none): the header the run view shows, then the log — stdout and stderr
/// apart, ANSI colours, input, notices, approvals and their decisions, diffs.
/// Rendered in pieces so a big run streams: `start()`, then `add` for every
/// event in seq order, then `finish()`. Every text from the run is escaped.
public struct TranscriptHTML: Sendable {
    private let run: Run
    private var parsers: [String: TerminalParser] = [:]
    private var open: OpenLine?

    /// A line still being written: its stream, its spans, and whether a `\r` came last.
    private struct OpenLine: Sendable {
        var stream: String
        var html = ""
        var redraw = false
    }

    public init(run: Run) { self.run = run }

    /// The diff an event needs shown (`diff.created`), for the caller to fetch and pass to `add`.
    public static func diffId(neededBy event: Event) -> Int64? {
        event.type == EventType.diffCreated ? event.dataValue["diff_id"]?.intValue : nil
    }

    /// The page's head, styles and the run's header.
    public func start() -> String {
        var facts = ["#\(run.id)", run.agent, run.status.rawValue]
        if let exit = run.exitCode { facts.append("exit \(exit)") }
        facts.append("sandbox \(run.sandboxMode)")
        if let confinement = run.confinement { facts.append("confinement \(confinement)") }
        let repo = run.repoUrl.map { url in run.repoRef.map { "\(url) @ \($0)" } ?? url }
        let times = [("created", run.createdAt), ("started", run.startedAt), ("finished", run.finishedAt)]
            .compactMap { name, value in value.map { "\(name) \($0)" } }
        var out = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="color-scheme" content="light dark">
            <title>\(Self.escape(run.title.isEmpty ? "Run #\(run.id)" : run.title)) — M transcript</title>
            <style>\(Self.css)</style></head>
            <body><header><h1>\(Self.escape(run.title.isEmpty ? "Run #\(run.id)" : run.title))</h1>
            <p class="facts">\(Self.escape(facts.joined(separator: " · ")))</p>
            """
        if run.confinement == "none" {
            out += "<p class=\"warning\">This run's agent was not confined (sandbox: none).</p>\n"
        }
        out += "<p class=\"facts\">\(Self.escape(times.joined(separator: " · ")))</p>\n"
        let place = [repo, run.workspace].compactMap { $0 }
        if !place.isEmpty { out += "<p class=\"facts mono\">\(Self.escape(place.joined(separator: " → ")))</p>\n" }
        out += "</header>\n<main class=\"log\">\n"
        return out
    }

    /// The HTML for `event` (output may stay held until its line ends); `diff` is the diff `diffId(neededBy:)` named.
    public mutating func add(_ event: Event, diff: Diff? = nil) -> String {
        let data = event.dataValue
        func text(_ key: String) -> String { data[key]?.stringValue ?? "" }
        switch event.type {
        case EventType.output:
            return output(stream: text("stream").isEmpty ? "stdout" : text("stream"), EventText.output(data), seq: event.seq)
        case EventType.input:
            let shown = data["eof"]?.boolValue == true ? "› EOF" : "› \(text("text"))"
            return note(shown, kind: "input", seq: event.seq)
        case EventType.notice:
            let level = text("level").isEmpty ? "info" : text("level")
            return note("[\(level)] \(text("text"))", kind: "notice-\(Self.token(level))", seq: event.seq)
        case EventType.agentMessage:
            return note("\(text("role").isEmpty ? "agent" : text("role")): \(text("text"))", kind: "meta", seq: event.seq)
        case EventType.approvalRequested:
            var out = close()
            let kind = text("kind")
            out += "<section class=\"approval\" data-seq=\"\(event.seq)\"><p class=\"approval-kind\">⚑ \(Self.escape(kind)) approval #\(data["approval_id"]?.intValue ?? 0)</p>"
            // A command approval's title is the command: verbatim, in monospace.
            let titleTag = kind == "command" ? "pre" : "p"
            out += "<\(titleTag) class=\"approval-title\">\(Self.escape(text("title")))</\(titleTag)>"
            if !text("body").isEmpty && text("body") != text("title") {
                out += "<pre class=\"approval-body\">\(Self.escape(text("body")))</pre>"
            }
            if let diffId = data["diff_id"]?.intValue { out += "<p class=\"facts\">Diff #\(diffId), shown above.</p>" }
            return out + "</section>\n"
        case EventType.approvalResolved:
            let decision = text("decision")
            let mark = decision == "approved" || decision == "approve" ? "✓" : "✕"
            let noteText = text("note").isEmpty ? "" : ": \(text("note"))"
            return note("\(mark) \(decision) by \(text("by"))\(noteText)", kind: "decision", seq: event.seq)
        case EventType.diffCreated:
            var out = note("± diff #\(data["diff_id"]?.intValue ?? 0): \(data["files"]?.intValue ?? 0) files +\(data["additions"]?.intValue ?? 0) −\(data["deletions"]?.intValue ?? 0)",
                           kind: "meta", seq: event.seq)
            if let diff { out += Self.diffHTML(diff) }
            return out
        case EventType.diffApplied:
            return note("± diff #\(data["diff_id"]?.intValue ?? 0) applied", kind: "meta", seq: event.seq)
        case EventType.cancelRequested:
            return note("— cancel requested", kind: "meta", seq: event.seq)
        case EventType.runStarted:
            return note("— started\(data["pid"]?.intValue.map { " (pid \($0))" } ?? "")", kind: "meta", seq: event.seq)
        case EventType.runFinished:
            var shown = "— \(text("status"))"
            if let exit = data["exit_code"]?.intValue { shown += ", exit \(exit)" }
            if !text("signal").isEmpty { shown += ", signal \(text("signal"))" }
            return note(shown, kind: "meta", seq: event.seq)
        default:
            return ""
        }
    }

    /// Whatever line is still open, and the end of the page.
    public mutating func finish() -> String {
        close() + "</main>\n<footer class=\"facts\">Exported by M.</footer>\n</body></html>\n"
    }

    private mutating func output(stream: String, _ chunk: String, seq: Int64) -> String {
        var parser = parsers[stream] ?? TerminalParser()
        let tokens = parser.feed(chunk)
        parsers[stream] = parser
        var out = ""
        if open?.stream != stream { out += close() }
        if open == nil { open = OpenLine(stream: stream) }
        for token in tokens {
            switch token {
            case .newline:
                out += line(open!.stream, open!.html, seq: seq)
                open = OpenLine(stream: stream)
            case .carriageReturn:
                open!.redraw = true
            case .text(let text, let style):
                if open!.redraw { open!.html = ""; open!.redraw = false } // a progress bar redraws its line
                open!.html += Self.span(text, style)
            }
        }
        return out
    }

    private mutating func note(_ text: String, kind: String, seq: Int64) -> String {
        close() + line("meta \(kind)", Self.escape(text), seq: seq)
    }

    /// Ends the open line, if it holds anything.
    private mutating func close() -> String {
        defer { open = nil }
        guard let open, !open.html.isEmpty else { return "" }
        return line(open.stream, open.html, seq: nil)
    }

    private func line(_ kind: String, _ html: String, seq: Int64?) -> String {
        let id = seq.map { " data-seq=\"\($0)\"" } ?? ""
        return "<div class=\"\(Self.token(kind))\"\(id)>\(html.isEmpty ? "\u{200B}" : html)</div>\n"
    }

    /// A diff's file list and its patch, lines coloured by their first character.
    static func diffHTML(_ diff: Diff) -> String {
        var out = "<details class=\"diff\" open><summary>Diff #\(diff.id) · \(escape(diff.status)) · +\(diff.additions) −\(diff.deletions)</summary><ul class=\"files\">"
        if case .array(let files)? = try? JSONValue.parse(diff.files) {
            for file in files {
                let path = file["path"]?.stringValue ?? ""
                let old = file["old_path"]?.stringValue.map { "\($0) → " } ?? ""
                let binary = file["binary"]?.boolValue == true ? " · binary" : ""
                out += "<li><b>\(escape(file["status"]?.stringValue ?? ""))</b> \(escape(old + path))\(binary) +\(file["additions"]?.intValue ?? 0) −\(file["deletions"]?.intValue ?? 0)</li>"
            }
        }
        out += "</ul><pre class=\"patch\">"
        for line in diff.patch.split(separator: "\n", omittingEmptySubsequences: false) {
            let kind: String
            if line.hasPrefix("+++") || line.hasPrefix("---") || line.hasPrefix("diff ") { kind = "dh" }
            else if line.hasPrefix("+") { kind = "da" }
            else if line.hasPrefix("-") { kind = "dd" }
            else if line.hasPrefix("@@") { kind = "dk" }
            else { kind = "dc" }
            out += "<span class=\"\(kind)\">\(escape(String(line)))</span>\n"
        }
        if diff.truncated { out += "<span class=\"dk\">… the diff was truncated</span>\n" }
        return out + "</pre></details>\n"
    }

    /// One styled span: the theme's classes for the 16 colours and attributes, inline colours for the rest.
    static func span(_ text: String, _ style: TerminalStyle) -> String {
        var classes: [String] = []
        var css: [String] = []
        var (fg, bg) = (style.foreground, style.background)
        if style.inverse {
            swap(&fg, &bg)
            if fg == nil { classes.append("fg-inv") }
            if bg == nil { classes.append("bg-inv") }
        }
        for (color, kind, property) in [(fg, "fg", "color"), (bg, "bg", "background-color")] {
            switch color {
            case nil: break
            case .indexed(let n)? where n < 16: classes.append("\(kind)-\(n)")
            case .indexed(let n)?: css.append("\(property):\(color256(n))")
            case .rgb(let r, let g, let b)?: css.append("\(property):rgb(\(r),\(g),\(b))")
            }
        }
        if style.bold { classes.append("b") }
        if style.dim { classes.append("d") }
        if style.italic { classes.append("i") }
        if style.underline { classes.append("u") }
        if style.strike { classes.append("s") }
        if classes.isEmpty && css.isEmpty { return escape(text) }
        let classAttr = classes.isEmpty ? "" : " class=\"\(classes.joined(separator: " "))\""
        let styleAttr = css.isEmpty ? "" : " style=\"\(css.joined(separator: ";"))\""
        return "<span\(classAttr)\(styleAttr)>\(escape(text))</span>"
    }

    /// The CSS colour of a 256-colour index at or above 16 (the same cube and greys as `ansi.js`).
    static func color256(_ index: UInt8) -> String {
        let levels = [0, 95, 135, 175, 215, 255]
        if index < 232 {
            let n = Int(index) - 16
            return "rgb(\(levels[n / 36]),\(levels[(n / 6) % 6]),\(levels[n % 6]))"
        }
        let grey = 8 + (Int(index) - 232) * 10
        return "rgb(\(grey),\(grey),\(grey))"
    }

    /// Text made safe inside an element or a quoted attribute.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A class name made of `text`'s letters, digits, dashes and spaces only.
    static func token(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars
        where scalar.isASCII && (scalar.properties.isAlphabetic || scalar.properties.numericType != nil || scalar == "-" || scalar == " ") {
            out.append(scalar)
        }
        return String(out)
    }

    static let css = """
        :root{color-scheme:light dark;--fg:#1b1b1f;--bg:#fafafa;--muted:#62626d;--line:#dcdce3;--warn:#b76e00;--bad:#c8332b;
        --log-bg:#f3f3f6;--log-fg:#1f1f24;--log-err:#b3261e;--log-err-bar:#e0a09b;--log-meta:#5a5a8a;
        --c0:#1f1f24;--c1:#c0362c;--c2:#2b8a3e;--c3:#a36b00;--c4:#2f5fd0;--c5:#a03aa8;--c6:#0f7f8c;--c7:#8d8d96;
        --c8:#5c5c66;--c9:#e0473c;--c10:#37a34c;--c11:#c08a00;--c12:#4878e8;--c13:#c050c8;--c14:#1aa0ae;--c15:#bdbdc6}
        @media (prefers-color-scheme:dark){:root{--fg:#ececf1;--bg:#141417;--muted:#a0a0ad;--line:#2e2e36;--warn:#f0a830;--bad:#ff6b61;
        --log-bg:#0e0e11;--log-fg:#e4e4e9;--log-err:#ff8a80;--log-err-bar:#8a2f28;--log-meta:#a3a3e0;
        --c0:#3a3a42;--c1:#ff6b61;--c2:#5fd37f;--c3:#e8c34a;--c4:#6b9bff;--c5:#dd7ee6;--c6:#4fd0dc;--c7:#d0d0d8;
        --c8:#7a7a86;--c9:#ff8a80;--c10:#86e8a0;--c11:#ffe07a;--c12:#98b8ff;--c13:#f0a4f6;--c14:#8ae8f0;--c15:#fff}}
        body{margin:0 auto;max-width:70rem;padding:12px;font:16px/1.45 system-ui,-apple-system,sans-serif;color:var(--fg);background:var(--bg)}
        h1{font-size:22px;margin:4px 0}.facts{color:var(--muted);font-size:14px;margin:2px 0}.mono,.log,pre{font-family:ui-monospace,Menlo,monospace}
        .warning{color:var(--bad);font-weight:600}
        .log{background:var(--log-bg);color:var(--log-fg);font-size:13px;line-height:1.4;padding:8px;border-radius:8px;margin-top:10px;
        overflow-wrap:anywhere}
        .log>div{min-height:1.4em;white-space:pre-wrap}.stderr{color:var(--log-err);border-left:3px solid var(--log-err-bar);padding-left:5px}
        .meta{color:var(--log-meta);font-style:italic}.notice-warning,.notice-error{color:var(--bad)}
        .approval{border:1px solid var(--warn);border-left-width:4px;border-radius:8px;padding:6px 10px;margin:6px 0;font-family:system-ui,sans-serif}
        .approval-kind{color:var(--warn);font-weight:700;margin:0}.approval-title{margin:4px 0}.approval pre{margin:4px 0;white-space:pre-wrap}
        .diff{font-family:system-ui,sans-serif;margin:6px 0}.diff .patch{font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
        .da{color:var(--c2)}.dd{color:var(--c1)}.dk{color:var(--c6)}.dh{font-weight:700}
        .b{font-weight:700}.d{opacity:.7}.i{font-style:italic}.u{text-decoration:underline}.s{text-decoration:line-through}
        .fg-inv{color:var(--log-bg)}.bg-inv{background:var(--log-fg)}
        .fg-0{color:var(--c0)}.fg-1{color:var(--c1)}.fg-2{color:var(--c2)}.fg-3{color:var(--c3)}.fg-4{color:var(--c4)}.fg-5{color:var(--c5)}
        .fg-6{color:var(--c6)}.fg-7{color:var(--c7)}.fg-8{color:var(--c8)}.fg-9{color:var(--c9)}.fg-10{color:var(--c10)}.fg-11{color:var(--c11)}
        .fg-12{color:var(--c12)}.fg-13{color:var(--c13)}.fg-14{color:var(--c14)}.fg-15{color:var(--c15)}
        .bg-0{background:var(--c0)}.bg-1{background:var(--c1)}.bg-2{background:var(--c2)}.bg-3{background:var(--c3)}.bg-4{background:var(--c4)}
        .bg-5{background:var(--c5)}.bg-6{background:var(--c6)}.bg-7{background:var(--c7)}.bg-8{background:var(--c8)}.bg-9{background:var(--c9)}
        .bg-10{background:var(--c10)}.bg-11{background:var(--c11)}.bg-12{background:var(--c12)}.bg-13{background:var(--c13)}
        .bg-14{background:var(--c14)}.bg-15{background:var(--c15)}
        """
}
