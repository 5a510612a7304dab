import mdb

/// One step of filling the search index: read the next events after the
/// cursor (a read transaction), turn them into readable text (no transaction
/// at all), insert that and move the cursor (one short write). The executors'
/// output transactions never wait for more than one such write, and a write
/// holds at most about `Defaults.searchBatchBytes` of text.
public enum SearchIndexing {
    /// What one step did.
    public struct Step: Sendable, Equatable {
        /// Events looked at and passed by the cursor.
        public var events: Int
        /// Rows added to the index (output chunks with words in them).
        public var indexed: Int
        /// True when nothing was left after this step (as far as it read).
        public var caughtUp: Bool
        /// How many events to read next time: about what one write takes.
        public var nextBatch: Int
    }

    /// Indexes up to `batch` events after the cursor, fewer when their data
    /// passes `maxBytes` (at least one). Blocking: call it off Swift's cooperative pool.
    @discardableResult
    public static func step(_ db: MDatabase, batch: Int = Defaults.searchBatchEvents,
                            maxBytes: Int = Defaults.searchBatchBytes) throws -> Step {
        let (after, events) = try db.searchBacklog(limit: batch)
        guard !events.isEmpty else { return Step(events: 0, indexed: 0, caughtUp: true, nextBatch: batch) }
        var taken = 0, bytes = 0
        while taken < events.count {
            let size = events[taken].data.utf8.count
            if taken > 0 && bytes + size > maxBytes { break }
            bytes += size
            taken += 1
        }
        let chosen = Array(events[..<taken])
        let documents = EventText.searchDocuments(chosen)
        // Big chunks read fewer next time; small ones more, up to the batch size.
        let nextBatch = taken < events.count ? taken : min(Defaults.searchBatchEvents, batch * 2)
        guard try db.indexSearchDocuments(documents, after: after, through: chosen.last!.id) else {
            // Another indexer moved the cursor: nothing of ours was written; look again from where it is.
            return Step(events: 0, indexed: 0, caughtUp: false, nextBatch: nextBatch)
        }
        return Step(events: taken, indexed: documents.count, caughtUp: taken == events.count && events.count < batch,
                    nextBatch: nextBatch)
    }
}
