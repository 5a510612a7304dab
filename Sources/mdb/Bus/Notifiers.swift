import GRDB

/// A notifier about to be added.
public struct NewNotifier: Sendable, Equatable {
    /// webhook, ntfy or exec.
    public var kind: NotifierKind
    /// The kind's settings: webhook `{url, secret?}`, ntfy `{url: SERVER/TOPIC, token?}`, exec `{command}`,
    /// webpush `{subject}`, apns `{key_path, key_id, team_id, topic, environment, server?}`.
    public var config: JSONValue
    /// Event types to send (empty: `Defaults.notifierDefaultEvents`, or `phonePushDefaultEvents` for webpush and apns).
    public var events: [String]
    /// Only these runs (nil: every run).
    public var runIds: [Int64]?
    /// `run.finished` only when the run did not succeed.
    public var failuresOnly: Bool

    public init(kind: NotifierKind, config: JSONValue, events: [String] = [], runIds: [Int64]? = nil,
                failuresOnly: Bool = false) {
        self.kind = kind
        self.config = config
        self.events = events
        self.runIds = runIds
        self.failuresOnly = failuresOnly
    }

    /// Refuses settings that could never deliver, with what to give instead.
    public func validate() throws {
        switch kind {
        case .webhook, .ntfy:
            let url = config["url"]?.stringValue ?? ""
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8 else {
                throw MDBError.invalidArgument("a \(kind.rawValue) notifier needs --url http(s)://…")
            }
            if kind == .ntfy, url.split(separator: "/", omittingEmptySubsequences: true).count < 3 {
                throw MDBError.invalidArgument("an ntfy notifier needs --url SERVER/TOPIC (https://ntfy.sh/my-topic)")
            }
        case .webpush:
            let subject = config["subject"]?.stringValue ?? ""
            guard subject.hasPrefix("mailto:") || subject.hasPrefix("https://") else {
                throw MDBError.invalidArgument("a webpush notifier needs --subject mailto:you@example.org (or an https:// URL): push services contact it")
            }
        case .apns:
            for (key, flag) in [("key_path", "--key-path FILE.p8"), ("key_id", "--key-id ID"), ("team_id", "--team-id ID"),
                                ("topic", "--topic BUNDLE_ID")] where (config[key]?.stringValue ?? "").isEmpty {
                throw MDBError.invalidArgument("an apns notifier needs \(flag) (from the Apple Developer account's key and app)")
            }
            guard ["sandbox", "production"].contains(config["environment"]?.stringValue ?? "") else {
                throw MDBError.invalidArgument("an apns notifier's environment is sandbox or production")
            }
        case .exec:
            guard let command = config["command"]?.stringValue, !command.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw MDBError.invalidArgument("an exec notifier needs --command CMD (run with sh -c, the JSON on its stdin)")
            }
        }
        for type in events where !Defaults.notifierAllowedEvents.contains(type) {
            throw MDBError.invalidArgument(
                "a notifier cannot be sent '\(type)' events; choose from \(Defaults.notifierAllowedEvents.joined(separator: ", "))")
        }
        if let runIds, runIds.isEmpty { throw MDBError.invalidArgument("--run needs at least one run id") }
    }
}

extension MDatabase {
    /// Adds a notifier whose cursor is the last event committed: only later events are sent to it.
    /// A `webpush` notifier also stores the server's VAPID key pair, made by
    /// `vapidKeys` the first time (the same transaction).
    public func addNotifier(_ new: NewNotifier, vapidKeys: (() -> VAPIDKeyPair)? = nil) throws -> Notifier {
        try new.validate()
        let keys = new.kind == .webpush ? vapidKeys?() : nil
        if new.kind == .webpush, keys == nil { throw MDBError.invalidArgument("a webpush notifier needs a VAPID key pair") }
        let events = new.events.isEmpty
            ? (new.kind.isPhonePush ? Defaults.phonePushDefaultEvents : Defaults.notifierDefaultEvents) : new.events
        let eventsJSON = JSONValue.array(events.map { .string($0) }).text
        let runsJSON = new.runIds.map { JSONValue.array($0.map { .int($0) }).text }
        return try write(.full) { db in
            if let keys {
                try db.execute(sql: "INSERT OR IGNORE INTO push_keys (id, vapid_private, vapid_public) VALUES (1, ?, ?)",
                               arguments: [keys.privateKey, keys.publicKey])
            }
            // Inside the write lock, max(id) is the last event committed: nothing
            // can commit between reading it and storing it as the cursor.
            return try Notifier.fetchOne(db, sql: """
                INSERT INTO notifiers (kind, config, events, run_ids, failures_only, after_event_id)
                VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(id), 0) FROM events))
                RETURNING *
                """, arguments: [new.kind.rawValue, new.config.text, eventsJSON, runsJSON, new.failuresOnly])!
        }
    }

    /// Every notifier, oldest first.
    public func notifiers() throws -> [Notifier] {
        try read { try Notifier.fetchAll($0, sql: "SELECT * FROM notifiers ORDER BY id") }
    }

    /// One notifier, or `notifierNotFound`.
    public func notifier(_ id: Int64) throws -> Notifier {
        guard let notifier = try read({ try Notifier.fetchOne($0, key: id) }) else { throw MDBError.notifierNotFound(id) }
        return notifier
    }

    /// Removes a notifier and its outbox rows (nothing more is sent to it).
    @discardableResult
    public func removeNotifier(_ id: Int64) throws -> Notifier {
        try write(.full) { db in
            guard let removed = try Notifier.fetchOne(db, sql: "DELETE FROM notifiers WHERE id = ? RETURNING *",
                                                      arguments: [id]) else { throw MDBError.notifierNotFound(id) }
            return removed
        }
    }

    /// Every notifier with the counts of its outbox rows by status (for `notify list`), in one snapshot.
    public func notifierStatuses() throws -> [NotifierStatus] {
        try read { db in
            var counts: [Int64: [String: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT notifier_id, status, count(*) FROM outbox GROUP BY notifier_id, status") {
                counts[row[0], default: [:]][row[1]] = row[2]
            }
            return try Notifier.fetchAll(db, sql: "SELECT * FROM notifiers ORDER BY id").map {
                NotifierStatus(notifier: $0, counts: counts[$0.id] ?? [:])
            }
        }
    }
}

/// A notifier and how its notifications stand.
public struct NotifierStatus: Sendable, Equatable {
    public var notifier: Notifier
    /// Outbox rows by status (`pending`, `sent`, `failed`).
    public var counts: [String: Int]

    public init(notifier: Notifier, counts: [String: Int]) {
        self.notifier = notifier
        self.counts = counts
    }

    /// The notifier as the API and `mcli notify list --json` show it: never its secret or token.
    public var json: JSONValue {
        let n = notifier
        let config = n.configValue
        return .object([
            ("id", .int(n.id)), ("kind", .string(n.kind)), ("target", .string(n.target)),
            ("events", .array(n.eventTypes.map { .string($0) })),
            ("run_ids", n.runIdList.map { .array($0.map { .int($0) }) } ?? .null),
            ("failures_only", .bool(n.failuresOnly)),
            ("has_secret", .bool(config["secret"]?.stringValue?.isEmpty == false || config["token"]?.stringValue?.isEmpty == false)),
            ("state", .string(n.state)), ("consecutive_failures", .int(Int64(n.consecutiveFailures))),
            ("last_error", n.lastError.map { .string($0) } ?? .null),
            ("last_sent_at", n.lastSentAt.map { .string($0) } ?? .null),
            ("after_event_id", .int(n.afterEventId)), ("created_at", .string(n.createdAt)),
            ("pending", .int(Int64(counts["pending"] ?? 0))), ("sent", .int(Int64(counts["sent"] ?? 0))),
            ("failed", .int(Int64(counts["failed"] ?? 0))),
        ])
    }
}
