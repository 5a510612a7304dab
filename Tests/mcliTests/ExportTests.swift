import Foundation
import MTestSupport
import Testing
import mdb

@Suite struct ExportTests {
    @Test func exportWritesTheTranscriptToStdoutInEitherFormat() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        let run = try db.createRun(NewRun(title: "exported", spec: RunSpec(command: "true")))
        try db.append(runId: run.id, [
            NewEvent("output", ["stream": "stdout", "text": "<script>alert('x')</script>\n"]),
            NewEvent("output", ["stream": "stderr", "text": "\u{1B}[31mbad\u{1B}[0m\n"]),
        ])
        try db.finishRun(runId: run.id, status: .failed, exitCode: 1)

        let html = try Exec.run("mcli", ["export", String(run.id), "--db", tmp.dbPath])
        #expect(html.status == 0, "\(html.stderr)")
        #expect(html.stdout.hasPrefix("<!doctype html>") && html.stdout.hasSuffix("</html>\n"))
        #expect(html.stdout.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") && !html.stdout.contains("<script"))
        #expect(html.stdout.contains(#"<div class="stderr" data-seq="3"><span class="fg-1">bad</span></div>"#))

        let jsonl = try Exec.run("mcli", ["export", String(run.id), "--format", "jsonl", "--db", tmp.dbPath])
        #expect(jsonl.status == 0)
        #expect(jsonl.stdout.split(separator: "\n").map(String.init) == (try db.events(runId: run.id, afterSeq: 0)).map(\.wireJSON))

        let badFormat = try Exec.run("mcli", ["export", String(run.id), "--format", "pdf", "--db", tmp.dbPath])
        #expect(badFormat.status == 2 && badFormat.stderr.contains("use html or jsonl") && badFormat.stdout.isEmpty)
        let missing = try Exec.run("mcli", ["export", "99", "--db", tmp.dbPath])
        #expect(missing.status == 2 && missing.stdout.isEmpty)
    }
}
