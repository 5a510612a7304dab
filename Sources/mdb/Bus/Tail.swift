import GRDB

extension Event {
    /// Events of all runs after an id (?1), in commit order, at most ?2: read
    /// through the pool (`MDatabase.events(afterId:)`) and by `EventFeed`.
    static let afterIdSQL = "SELECT id, run_id, seq, ts, type, data FROM events WHERE id > ?1 ORDER BY id LIMIT ?2"
}

extension MDatabase {
    /// A run's events with `seq > afterSeq`, in order, at most `limit`.
    public func events(runId: Int64, afterSeq: Int64, limit: Int = Defaults.maxEventPageSize) throws -> [Event] {
        try read { db in
            try Event.fetchAll(db.cachedStatement(sql: """
                SELECT id, run_id, seq, ts, type, data FROM events
                WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?
                """), arguments: [runId, afterSeq, max(1, min(limit, Defaults.maxEventPageSize))])
        }
    }

    /// Events of all runs with `id > afterId`, in commit order, at most `limit`.
    /// Ids are assigned under SQLite's single write lock, so a reader that
    /// keeps `id > last_seen` never misses a row.
    public func events(afterId: Int64, limit: Int = Defaults.maxEventPageSize) throws -> [Event] {
        try read { db in
            try Event.fetchAll(db.cachedStatement(sql: Event.afterIdSQL),
                               arguments: [afterId, max(1, min(limit, Defaults.maxEventPageSize))])
        }
    }

    /// The highest event id committed so far (0 for none).
    public func lastEventId() throws -> Int64 {
        try read { try Int64.fetchOne($0, sql: "SELECT coalesce(max(id), 0) FROM events") ?? 0 }
    }
}
