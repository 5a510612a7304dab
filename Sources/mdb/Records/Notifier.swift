import GRDB

/// A row of `notifiers`: somewhere pushes go (a webhook, an ntfy topic, a local command).
public struct Notifier: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "notifiers"

    public var id: Int64
    public var kind: String
    /// The kind's settings as JSON text (`url`, `secret`, `token`, `command`).
    public var config: String
    /// The cursor: events up to this id are in the outbox or predate the notifier.
    public var afterEventId: Int64
    public var createdAt: String
    public var disabledAt: String?
    /// The event types it is sent, a JSON array's text.
    public var events: String
    /// The runs it is limited to, a JSON array's text (nil: every run).
    public var runIds: String?
    /// Sent `run.finished` only for runs that did not succeed.
    public var failuresOnly: Bool
    /// `ok`, or `failing` after `Defaults.notifierFailingAfter` failures in a row.
    public var state: String
    public var consecutiveFailures: Int
    public var lastError: String?
    public var lastSentAt: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, config, events, state
        case afterEventId = "after_event_id", createdAt = "created_at", disabledAt = "disabled_at"
        case runIds = "run_ids", failuresOnly = "failures_only", consecutiveFailures = "consecutive_failures"
        case lastError = "last_error", lastSentAt = "last_sent_at"
    }

    /// The settings parsed.
    public var configValue: JSONValue { (try? JSONValue.parse(config)) ?? .object([]) }

    /// The event types as a list.
    public var eventTypes: [String] {
        guard case .array(let items)? = try? JSONValue.parse(events) else { return [] }
        return items.compactMap(\.stringValue)
    }

    /// Whether it is sent this event (its types, runs, and `failures_only`).
    public func wants(_ event: Event) -> Bool {
        guard eventTypes.contains(event.type), runIdList?.contains(event.runId) ?? true else { return false }
        if failuresOnly, event.type == EventType.runFinished,
           event.dataValue["status"]?.stringValue == RunStatus.succeeded.rawValue { return false }
        return true
    }

    /// The runs it is limited to (nil: every run).
    public var runIdList: [Int64]? {
        guard let runIds, case .array(let items)? = try? JSONValue.parse(runIds) else { return nil }
        return items.compactMap(\.intValue)
    }

    /// Where it sends, for people: the URL, the command, the VAPID subject or
    /// the APNs topic (never a secret, a token or a key).
    public var target: String {
        let config = configValue
        if let topic = config["topic"]?.stringValue {
            return "\(topic) (\(config["environment"]?.stringValue ?? "production"))"
        }
        return config["url"]?.stringValue ?? config["command"]?.stringValue ?? config["subject"]?.stringValue ?? ""
    }
}

/// The kinds of notifier this build can deliver to.
public enum NotifierKind: String, Sendable, CaseIterable {
    /// A JSON POST, optionally signed.
    case webhook
    /// An ntfy topic, with Approve / Reject buttons.
    case ntfy
    /// A local command with the JSON on its stdin.
    case exec
    /// Every Web Push subscription of the web app (RFC 8291, VAPID).
    case webpush
    /// Every APNs device token of the native app (token auth).
    case apns

    /// Whether it sends to the registered phones (`push_subscriptions`), replacing a notification when its approval is resolved.
    public var isPhonePush: Bool { self == .webpush || self == .apns }
}
