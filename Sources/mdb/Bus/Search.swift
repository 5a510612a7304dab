import Foundation
import GRDB

/// One place in a run's output that matched a search.
public struct SearchHit: Sendable, Equatable {
    /// The run the text belongs to.
    public var runId: Int64
    /// The event (per-run `seq`) whose text matched.
    public var seq: Int64
    /// The event's global id.
    public var eventId: Int64
    /// The run's title, if it has one.
    public var title: String?
    /// The line holding the most of the words, cut around the first match ("…" where cut).
    public var snippet: String
    /// The matched words in `snippet`, as UTF-16 offsets (what JavaScript indexes by).
    public var marks: [Range<Int>]

    public init(runId: Int64, seq: Int64, eventId: Int64, title: String?, snippet: String, marks: [Range<Int>]) {
        self.runId = runId
        self.seq = seq
        self.eventId = eventId
        self.title = title
        self.snippet = snippet
        self.marks = marks
    }
}

/// An event's readable text, ready to be indexed.
public struct SearchDocument: Sendable, Equatable {
    public var eventId: Int64
    public var runId: Int64
    public var seq: Int64
    public var text: String

    public init(eventId: Int64, runId: Int64, seq: Int64, text: String) {
        self.eventId = eventId
        self.runId = runId
        self.seq = seq
        self.text = text
    }
}

/// The search index (`search_text`, FTS5) and its cursor (`search_cursor`),
/// in a file of their own beside the bus (`SearchFile` says why).
/// Indexing is two steps so that the index's write lock is held only for the
/// inserts: `searchBacklog` reads the next events, the caller turns them into
/// text off any transaction, and `indexSearchDocuments` inserts them and moves
/// the cursor in one short write.
extension MDatabase {
    /// The index's connections, opened (the file created or rebuilt if needed) on first use.
    private var searchConnections: (writer: DatabaseQueue, reader: DatabaseQueue) {
        get throws { try searchFile.connections(create: true, bus: self)! }
    }

    /// How far the index got: every event with an id up to this was looked at.
    public func searchCursor() throws -> Int64 {
        try searchConnections.reader.read { try Int64.fetchOne($0, sql: "SELECT after_event_id FROM search_cursor WHERE id = 1") ?? 0 }
    }

    /// The next `limit` events after the cursor, in id order, and the cursor they follow.
    public func searchBacklog(limit: Int) throws -> (after: Int64, events: [Event]) {
        let after = try searchCursor()
        let events = try read { db in
            try Event.fetchAll(db.cachedStatement(sql: Event.afterIdSQL), arguments: [after, max(1, min(limit, Defaults.maxEventPageSize))])
        }
        return (after, events)
    }

    /// Inserts `documents` and moves the cursor from `after` to `through`, in
    /// one short write. Returns false, changing nothing, when the cursor is no
    /// longer at `after` (another indexer moved it). A document whose event
    /// was deleted meanwhile (`mcli gc`) is left out, so no row outlives its event.
    @discardableResult
    public func indexSearchDocuments(_ documents: [SearchDocument], after: Int64, through: Int64) throws -> Bool {
        return try searchFile.write(try searchConnections.writer) { db in
            // The cursor's UPDATE comes first: the write lock is held before anything is read.
            let moved = try db.cachedStatement(sql: """
                UPDATE search_cursor SET after_event_id = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                WHERE id = 1 AND after_event_id = ?
                """)
            try moved.execute(arguments: [through, after])
            guard db.changesCount == 1 else { return false }
            let insert = try db.cachedStatement(sql: """
                INSERT INTO search_text (rowid, text, run_id, seq)
                SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM bus.events WHERE id = ?)
                """)
            for document in documents {
                try insert.execute(arguments: [document.eventId, document.text, document.runId, document.seq, document.eventId])
            }
            return true
        }
    }

    /// The newest matches of `query` (plain words, as a person types them:
    /// every word must appear, as a word or the start of one), newest first.
    /// Throws `invalidArgument` for a query with no words.
    public func search(_ query: String, limit: Int) throws -> [SearchHit] {
        guard let match = Self.ftsQuery(query) else {
            throw MDBError.invalidArgument("the search has no words: give some text to look for")
        }
        do {
            return try searchRows(match, terms: SearchSnippet.terms(query), limit: limit)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR {
            // Quoted words cannot be FTS5 syntax; should SQLite still refuse the text, it is the text's fault.
            throw MDBError.invalidArgument("these words cannot be searched (\(error.message ?? "refused")): try other words")
        }
    }

    private func searchRows(_ match: String, terms: [String], limit: Int) throws -> [SearchHit] {
        try searchConnections.reader.read { db in
            // A row outlives its event only when gc was stopped between the two files' deletes: never shown.
            // FTS5's snippet() tokenises every match in a row: on a build log where each
            // of a chunk's thousand lines matches, that is seconds. The rows are found by
            // the index; the line to show is picked here, stopping at the first that fits.
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT search_text.rowid AS event_id, search_text.run_id AS run_id, search_text.seq AS seq,
                       search_text.text AS text, runs.title AS title
                FROM search_text LEFT JOIN bus.runs AS runs ON runs.id = search_text.run_id
                WHERE search_text MATCH ? AND EXISTS (SELECT 1 FROM bus.events WHERE events.id = search_text.rowid)
                ORDER BY search_text.rowid DESC LIMIT ?
                """), arguments: [match, max(1, min(limit, Defaults.maxEventPageSize))]).map { row in
                let (snippet, marks) = SearchSnippet.make(text: row["text"] ?? "", terms: terms)
                return SearchHit(runId: row["run_id"], seq: row["seq"], eventId: row["event_id"], title: row["title"],
                                 snippet: snippet, marks: marks)
            }
        }
    }

    /// A person's words as an FTS5 query that cannot be a syntax error: each
    /// whitespace-separated word becomes a quoted string (quotes doubled), a
    /// prefix match, and all must match. Nil when there are no words.
    static func ftsQuery(_ text: String) -> String? {
        // Control characters (NUL among them, which ends FTS5's reading of a query) separate words, as in indexed text.
        let words = text.split(whereSeparator: { $0.isWhitespace || $0.isNewline || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } })
        guard !words.isEmpty else { return nil }
        return words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"*" }.joined(separator: " ")
    }
}
