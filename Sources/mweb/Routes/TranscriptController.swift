import HTTPTypes
import Hummingbird
import MTranscript
import NIOCore
import mdb

/// `/runs/{id}/transcript?format=html|jsonl`: the run exported, streamed a
/// page of events at a time so a big run is never held whole. `html` is a
/// self-contained page with no scripts; `jsonl` is one wire event per line.
struct TranscriptController {
    let store: any MStore

    func addRoutes(to group: RouterGroup<MRequestContext>) {
        group.get("runs/:id/transcript", use: transcript)
    }

    @Sendable func transcript(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.read)
        let id = try RequestInput.id(context)
        let name = request.uri.queryParameters["format"].map(String.init) ?? Transcript.Format.html.rawValue
        guard let format = Transcript.Format(rawValue: name) else {
            throw APIError.badRequest("format=\(name) is not known: use html or jsonl")
        }
        let run = try await store.run(id)
        let store = self.store
        let body = ResponseBody { writer in
            var transcript = Transcript(run: run, format: format)
            try await writer.write(ByteBuffer(string: transcript.start()))
            var after: Int64 = 0
            while true {
                let page = try await store.events(runId: id, afterSeq: after, limit: Transcript.pageEvents)
                guard let last = page.last else { break }
                var diffs: [Int64: Diff] = [:]
                for diffId in transcript.diffIds(page) { diffs[diffId] = try? await store.diff(diffId) }
                try await writer.write(ByteBuffer(string: transcript.add(page, diffs: diffs)))
                after = last.seq
            }
            try await writer.write(ByteBuffer(string: transcript.finish()))
            try await writer.finish(nil)
        }
        var headers: HTTPFields = [.contentType: format.contentType]
        headers[.contentDisposition] = "inline; filename=\"run-\(id).\(format.rawValue)\""
        // The page is the run's output: no script of any origin runs in it, whatever slipped through.
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: body)
    }
}
