import Foundation
import GRDB

/// A claimed notification and the notifier it goes to.
public struct OutboxDelivery: Sendable, Equatable {
    /// The claimed row (its `attempts` counts this try).
    public var item: OutboxItem
    /// Where it goes, as stored when it was claimed.
    public var notifier: Notifier
}

/// How long to wait before retrying, and when to give up.
public struct RetryPolicy: Sendable, Equatable {
    /// The delay after the first failure.
    public var baseSeconds: Double
    /// The longest delay.
    public var maxSeconds: Double
    /// Attempts before a notification is `failed` for good.
    public var maxAttempts: Int

    public init(baseSeconds: Double = Defaults.outboxRetryBaseSeconds, maxSeconds: Double = Defaults.outboxRetryMaxSeconds,
                maxAttempts: Int = Defaults.outboxMaxAttempts) {
        self.baseSeconds = baseSeconds
        self.maxSeconds = maxSeconds
        self.maxAttempts = maxAttempts
    }

    /// The delay after the `attempts`-th failed attempt: base · 2^(attempts−1), at most `maxSeconds`.
    public func delay(afterAttempts attempts: Int) -> Double {
        min(maxSeconds, baseSeconds * pow(2, Double(max(0, min(attempts - 1, 40)))))
    }
}

extension MDatabase {
    /// Moves every active notifier's cursor past the events committed so far,
    /// inserting an outbox row for each event it wants, all in one write
    /// transaction: a crash leaves either both the rows and the cursors or
    /// neither, and the dedupe key (one per notifier and event, `INSERT OR
    /// IGNORE`) keeps a repeated fill from doubling anything. Returns the rows added.
    ///
    /// Never called from the output path: mweb calls it when its tailer saw an
    /// event worth a notification (and on start), in a transaction of its own.
    @discardableResult
    public func fillOutbox(limit: Int = Defaults.outboxFillBatch) throws -> Int {
        try write { db in
            let notifiers = try Notifier.fetchAll(db, sql: "SELECT * FROM notifiers WHERE disabled_at IS NULL")
            guard let minCursor = notifiers.map(\.afterEventId).min() else { return 0 }
            let head = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM events") ?? 0
            guard head > minCursor else { return 0 }
            let wanted = Array(Set(notifiers.flatMap(\.eventTypes)))
            guard !wanted.isEmpty else { return 0 }
            let placeholders = Array(repeating: "?", count: wanted.count).joined(separator: ", ")
            let rows = try Row.fetchAll(db, sql: """
                SELECT e.id, e.run_id, e.seq, e.ts, e.type, e.data, r.title, r.status,
                       CAST(round((julianday(r.finished_at) - julianday(coalesce(r.started_at, r.created_at))) * 86400000) AS INTEGER),
                       json_array_length(d.files), d.additions, d.deletions
                FROM events e JOIN runs r ON r.id = e.run_id
                LEFT JOIN diffs d ON e.type = 'approval.requested' AND d.id = json_extract(e.data, '$.diff_id')
                WHERE e.id > ? AND e.id <= ? AND e.type IN (\(placeholders))
                ORDER BY e.id LIMIT ?
                """, arguments: StatementArguments([minCursor, head] + wanted.map { $0 as any DatabaseValueConvertible } + [limit]))
            // A full page may stop short of the head: the cursor moves only as far as was read.
            let scannedTo = rows.count == limit ? (rows.last.map { $0[0] as Int64 } ?? head) : head
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO outbox (notifier_id, event_id, dedupe_key, payload) VALUES (?, ?, ?, ?)
                """)
            var added = 0
            let events = try rows.map(Event.init(row:))
            for notifier in notifiers {
                for (event, row) in zip(events, rows) {
                    guard event.id > notifier.afterEventId, event.id <= scannedTo, notifier.wants(event) else { continue }
                    let key = Self.dedupeKey(notifierId: notifier.id, eventId: event.id)
                    let payload = Self.notificationPayload(key: key, notifierId: notifier.id, event: event,
                                                           runTitle: row[6], runStatus: row[7], durationMs: row[8],
                                                           diffCounts: (row[9] as Int?).map { ($0, row[10], row[11]) })
                    try insert.execute(arguments: [notifier.id, event.id, key, payload])
                    added += db.changesCount
                }
            }
            try db.execute(sql: """
                UPDATE notifiers SET after_event_id = ? WHERE disabled_at IS NULL AND after_event_id < ?
                """, arguments: [scannedTo, scannedTo])
            return added
        }
    }

    /// The key a receiver drops repeats by: one per notifier and event.
    static func dedupeKey(notifierId: Int64, eventId: Int64) -> String { "m-n\(notifierId)-e\(eventId)" }

    /// Takes due rows for sending, the oldest of each notifier (up to `limit`
    /// notifiers): `claimed_at` marks them and `attempts` counts this try.
    /// One per notifier, so a sender that sends them side by side keeps each
    /// notifier's order while it is healthy, and a slow notifier holds up a
    /// round by one request at most. A sender that dies leaves the claim to
    /// expire after `leaseSeconds` (or `releaseClaims` on the next start).
    public func claimDueOutbox(limit: Int = Defaults.outboxClaimBatch,
                               leaseSeconds: Double = Defaults.outboxClaimLeaseSeconds) throws -> [OutboxDelivery] {
        try write { db in
            let items = try OutboxItem.fetchAll(db, sql: """
                UPDATE outbox SET claimed_at = \(Timestamp.sqlNow), attempts = attempts + 1
                WHERE id IN (
                    SELECT min(o.id) FROM outbox o JOIN notifiers n ON n.id = o.notifier_id
                    WHERE o.status = 'pending' AND o.next_attempt_at <= \(Timestamp.sqlNow)
                      AND (o.claimed_at IS NULL OR o.claimed_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?))
                      AND n.disabled_at IS NULL
                    GROUP BY o.notifier_id ORDER BY 1 LIMIT ?)
                RETURNING *
                """, arguments: [MDatabase.leaseModifier(-leaseSeconds), limit])
            guard !items.isEmpty else { return [] }
            var notifiers: [Int64: Notifier] = [:]
            for id in Set(items.map(\.notifierId)) { notifiers[id] = try Notifier.fetchOne(db, key: id) }
            return items.sorted { $0.id < $1.id }.compactMap { item in
                notifiers[item.notifierId].map { OutboxDelivery(item: item, notifier: $0) }
            }
        }
    }

    /// Makes every claimed, unsent row due now: called by a sender as it
    /// starts, since the process that claimed them (a single mweb) is gone.
    @discardableResult
    public func releaseClaims() throws -> Int {
        try write { db in
            try db.execute(sql: """
                UPDATE outbox SET claimed_at = NULL, next_attempt_at = \(Timestamp.sqlNow)
                WHERE status = 'pending' AND claimed_at IS NOT NULL
                """)
            return db.changesCount
        }
    }

    /// Records a delivery; the notifier is healthy again.
    public func markOutboxSent(id: Int64) throws {
        try write { db in
            guard let item = try OutboxItem.fetchOne(db, sql: """
                UPDATE outbox SET status = 'sent', sent_at = \(Timestamp.sqlNow), claimed_at = NULL, last_error = NULL
                WHERE id = ? RETURNING *
                """, arguments: [id]) else { throw MDBError.outboxItemNotFound(id) }
            try db.execute(sql: """
                UPDATE notifiers SET state = 'ok', consecutive_failures = 0, last_sent_at = \(Timestamp.sqlNow)
                WHERE id = ?
                """, arguments: [item.notifierId])
        }
    }

    /// Records a failed attempt: due again after the policy's backoff, or
    /// `failed` once it ran out of attempts. The notifier counts the failure;
    /// the one that makes it `failing` appends a `notice` to the event's run.
    /// Returns the row as stored.
    @discardableResult
    public func markOutboxFailed(id: Int64, error: String, policy: RetryPolicy = RetryPolicy()) throws -> OutboxItem {
        let message = String(error.prefix(500))
        return try write { db in
            guard let current = try OutboxItem.fetchOne(db, key: id) else { throw MDBError.outboxItemNotFound(id) }
            let giveUp = current.attempts >= policy.maxAttempts
            let delay = policy.delay(afterAttempts: current.attempts)
            let item = try OutboxItem.fetchOne(db, sql: """
                UPDATE outbox SET claimed_at = NULL, last_error = ?,
                       status = CASE WHEN ? THEN 'failed' ELSE status END,
                       next_attempt_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)
                WHERE id = ? RETURNING *
                """, arguments: [message, giveUp, MDatabase.leaseModifier(delay), id])!
            let before = try Notifier.fetchOne(db, key: current.notifierId)
            guard let notifier = try Notifier.fetchOne(db, sql: """
                UPDATE notifiers SET consecutive_failures = consecutive_failures + 1, last_error = ?,
                       state = CASE WHEN consecutive_failures + 1 >= ? THEN 'failing' ELSE state END
                WHERE id = ? RETURNING *
                """, arguments: [message, Defaults.notifierFailingAfter, current.notifierId]) else { return item }
            if before?.state == "ok", notifier.state == "failing",
               let runId = try Int64.fetchOne(db, sql: "SELECT run_id FROM events WHERE id = ?", arguments: [current.eventId]) {
                let text = "notifier \(notifier.id) (\(notifier.kind)) keeps failing: \(message); `mcli notify list` shows it"
                _ = try MDatabase.appendEvents(db, runId: runId, [
                    NewEvent(EventType.notice, .object([("level", "warning"), ("text", .string(text))])),
                ])
            }
            return item
        }
    }

    /// Deletes sent and given-up notifications, and used or expired button
    /// tokens, older than `keepSeconds`; pending ones always stay. Returns the rows deleted.
    @discardableResult
    public func pruneOutbox(keepSeconds: Double = Defaults.outboxKeepSeconds) throws -> Int {
        try write { db in
            let cutoff = MDatabase.leaseModifier(-keepSeconds)
            try db.execute(sql: """
                DELETE FROM outbox WHERE status IN ('sent', 'failed')
                  AND created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)
                """, arguments: [cutoff])
            var deleted = db.changesCount
            try db.execute(sql: """
                DELETE FROM action_tokens WHERE coalesce(used_at, expires_at) < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)
                """, arguments: [cutoff])
            deleted += db.changesCount
            return deleted
        }
    }

    /// Queues a test notification for one notifier (`mcli notify test`); returns its row.
    public func enqueueTestNotification(notifierId: Int64) throws -> OutboxItem {
        try write(.full) { db in
            guard let notifier = try Notifier.fetchOne(db, key: notifierId) else { throw MDBError.notifierNotFound(notifierId) }
            let key = "m-n\(notifier.id)-test-\(UInt64.random(in: 0...UInt64.max))"
            let summary = "Test notification from M for notifier \(notifier.id) (\(notifier.kind))"
            let payload = JSONValue.object([
                ("delivery", .string(key)), ("notifier_id", .int(notifier.id)), ("summary", .string(summary)),
                ("title", "M test"), ("event", .object([("type", "test"), ("ts", .string(Timestamp.now()))])),
            ]).text
            return try OutboxItem.fetchOne(db, sql: """
                INSERT INTO outbox (notifier_id, event_id, dedupe_key, payload) VALUES (?, 0, ?, ?) RETURNING *
                """, arguments: [notifier.id, key, payload])!
        }
    }

    /// One outbox row, or `outboxItemNotFound`.
    public func outboxItem(_ id: Int64) throws -> OutboxItem {
        guard let item = try read({ try OutboxItem.fetchOne($0, key: id) }) else { throw MDBError.outboxItemNotFound(id) }
        return item
    }

    /// A notifier's outbox rows, oldest first.
    public func outbox(notifierId: Int64, limit: Int = 1000) throws -> [OutboxItem] {
        try read { db in
            try OutboxItem.fetchAll(db, sql: "SELECT * FROM outbox WHERE notifier_id = ? ORDER BY id LIMIT ?",
                                    arguments: [notifierId, limit])
        }
    }

    /// Seconds until the next pending row can be claimed (0 if one can now; nil
    /// if none waits): its `next_attempt_at`, or for a claimed row the end of
    /// its claim's lease. The push sender sleeps that long unless woken.
    public func secondsUntilNextOutboxAttempt(leaseSeconds: Double = Defaults.outboxClaimLeaseSeconds) throws -> Double? {
        try read { db in
            try Double.fetchOne(db, sql: """
                SELECT max(0, (julianday(min(CASE WHEN o.claimed_at IS NULL THEN o.next_attempt_at
                        ELSE max(o.next_attempt_at, strftime('%Y-%m-%dT%H:%M:%fZ', o.claimed_at, ?)) END))
                    - julianday('now')) * 86400)
                FROM outbox o JOIN notifiers n ON n.id = o.notifier_id
                WHERE o.status = 'pending' AND n.disabled_at IS NULL
                """, arguments: [MDatabase.leaseModifier(leaseSeconds)])
        }
    }
}
