import mdb

/// A run's export, as `GET /runs/{id}/transcript` and `mcli export` give it:
/// fed a page of events at a time, it answers the next piece of text, so a
/// big run is streamed and never held whole.
public struct Transcript: Sendable {
    /// The two export formats.
    public enum Format: String, Sendable, CaseIterable {
        /// A self-contained HTML page (no scripts).
        case html
        /// One wire event per line.
        case jsonl

        /// The HTTP content type of the format.
        public var contentType: String {
            switch self {
            case .html: return "text/html; charset=utf-8"
            case .jsonl: return "application/x-ndjson; charset=utf-8"
            }
        }
    }

    /// Events read per page while exporting.
    public static let pageEvents = 1_000

    public let format: Format
    private var html: TranscriptHTML?

    /// An export of `run` in `format`.
    public init(run: Run, format: Format) {
        self.format = format
        html = format == .html ? TranscriptHTML(run: run) : nil
    }

    /// What comes before the events.
    public func start() -> String { html?.start() ?? "" }

    /// The diffs `events` need shown (fetch them and pass them to `add`).
    public func diffIds(_ events: [Event]) -> [Int64] {
        format == .html ? events.compactMap(TranscriptHTML.diffId(neededBy:)) : []
    }

    /// The text for the next page of `events`, in seq order.
    public mutating func add(_ events: [Event], diffs: [Int64: Diff] = [:]) -> String {
        var out = ""
        for event in events {
            if html != nil {
                out += html!.add(event, diff: TranscriptHTML.diffId(neededBy: event).flatMap { diffs[$0] })
            } else {
                out += event.wireJSON
                out += "\n"
            }
        }
        return out
    }

    /// What comes after the last event.
    public mutating func finish() -> String { html == nil ? "" : html!.finish() }
}

extension MDatabase {
    /// Writes run `runId`'s transcript to `sink` a page at a time (reads only; for `mcli export`).
    public func writeTranscript(runId: Int64, format: Transcript.Format, to sink: (String) throws -> Void) throws {
        var transcript = Transcript(run: try run(runId), format: format)
        try sink(transcript.start())
        var after: Int64 = 0
        while true {
            let page = try events(runId: runId, afterSeq: after, limit: Transcript.pageEvents)
            guard let last = page.last else { break }
            var diffs: [Int64: Diff] = [:]
            for id in transcript.diffIds(page) { diffs[id] = try? diff(id) }
            try sink(transcript.add(page, diffs: diffs))
            after = last.seq
        }
        try sink(transcript.finish())
    }
}
