import Foundation
import MTestSupport
import Testing
import mdb
@testable import MTranscript

@Suite struct TranscriptTests {
    /// A finished run with output on both streams, input, a notice, a question and its decision, and a diff.
    private func sampleRun(_ db: MDatabase) throws -> Int64 {
        let run = try db.createRun(NewRun(title: "build <b>&", spec: RunSpec(command: "make")))
        _ = try db.claimNextRun(workerId: "w")
        try db.append(runId: run.id, [
            NewEvent("output", ["stream": "stdout", "text": "\u{1B}[32mok\u{1B}[0m <script>alert(1)</script>\n"]),
            NewEvent("output", ["stream": "stderr", "text": "boom & \"bust\"\n"]),
            NewEvent("output", ["stream": "stdout", "text": "10%\r55%\r100%\n"]),
            NewEvent("input", ["text": "yes", "source": "web"]),
            NewEvent("notice", ["level": "warning", "text": "memory high"]),
        ])
        let approval = try db.requestApproval(runId: run.id, NewApproval(kind: "question", title: "Which <env>?", body: "prod or dev"))
        _ = try db.resolveApproval(id: approval.id, decision: .approve, by: "web:phone", note: "dev </div>")
        let files = #"[{"path":"a.txt","status":"modified","binary":false,"additions":1,"deletions":1}]"#
        _ = try db.recordDiff(runId: run.id, NewDiff(base: "abc", message: "m", patch: "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-<old>\n+<new>\n",
                                                     files: files, fileCount: 1, additions: 1, deletions: 1, truncated: false))
        try db.finishRun(runId: run.id, status: .failed, exitCode: 3)
        return run.id
    }

    private func html(_ db: MDatabase, _ id: Int64) throws -> String {
        var out = ""
        try db.writeTranscript(runId: id, format: .html) { out += $0 }
        return out
    }

    @Test func htmlShowsTheRunAsTheRunViewDoesWithEverythingEscaped() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        let id = try sampleRun(db)
        let page = try html(db, id)
        #expect(page.hasPrefix("<!doctype html>") && page.hasSuffix("</html>\n"))
        #expect(!page.contains("<script"), "no script in the page, and the output's is text")
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(page.contains("<h1>build &lt;b&gt;&amp;</h1>"))
        #expect(page.contains(#"<div class="stdout" data-seq="2"><span class="fg-2">ok</span> &lt;script&gt;"#))
        #expect(page.contains(#"<div class="stderr" data-seq="3">boom &amp; &quot;bust&quot;</div>"#))
        #expect(page.contains(#">100%</div>"#) && !page.contains("55%"), "a progress bar shows its last state")
        #expect(page.contains("› yes"))
        #expect(page.contains("[warning] memory high"))
        #expect(page.contains("question approval") && page.contains("Which &lt;env&gt;?") && page.contains("prod or dev"))
        #expect(page.contains("✓ approved by web:phone: dev &lt;/div&gt;"))
        #expect(page.contains(#"<span class="dd">-&lt;old&gt;</span>"#) && page.contains(#"<span class="da">+&lt;new&gt;</span>"#))
        #expect(page.contains("<b>modified</b> a.txt"))
        #expect(page.contains("— failed, exit 3"))
        #expect(page.contains("failed · exit 3"))
    }

    @Test func jsonlIsOneWireEventPerLineInSeqOrder() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        let id = try sampleRun(db)
        var out = ""
        try db.writeTranscript(runId: id, format: .jsonl) { out += $0 }
        let lines = out.split(separator: "\n")
        let events = try db.events(runId: id, afterSeq: 0)
        #expect(lines.count == events.count)
        #expect(lines.map(String.init) == events.map(\.wireJSON))
        #expect(try lines.map { try JSONValue.parse(String($0))["seq"]?.intValue } == (1...Int64(events.count)).map { $0 })
    }

    @Test func aBigRunIsWrittenInPagesAndWhole() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        let run = try db.createRun(NewRun(spec: RunSpec(command: "seq")))
        let lines = 25_000
        for start in stride(from: 0, to: lines, by: 1_000) {
            try db.append(runId: run.id, (start..<start + 1_000).map { NewEvent("output", ["stream": "stdout", "text": .string("line \($0)\n")]) })
        }
        try db.finishRun(runId: run.id, status: .succeeded, exitCode: 0)
        var pieces = 0, jsonl = 0
        var largest = 0
        try db.writeTranscript(runId: run.id, format: .jsonl) { piece in
            pieces += 1
            largest = max(largest, piece.utf8.count)
            jsonl += piece.split(separator: "\n").count
        }
        #expect(jsonl == lines + 2)
        #expect(pieces >= lines / Transcript.pageEvents, "written a page at a time")
        #expect(largest < 200_000, "no piece holds the whole run")
        let page = try html(db, run.id)
        #expect(page.components(separatedBy: "<div class=\"stdout\"").count - 1 == lines)
        #expect(page.contains(">line 0</div>") && page.contains(">line 24999</div>"))
    }
}
