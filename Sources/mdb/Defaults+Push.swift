import Foundation

/// Tunables of push delivery (the outbox), with their units in their names.
extension Defaults {
    /// Event types a notifier gets when it names none.
    public static let notifierDefaultEvents = [EventType.approvalRequested, EventType.runFinished]
    /// Event types a webpush or apns notifier gets when it names none: a resolved
    /// or expired approval replaces the phone's notification of it.
    public static let phonePushDefaultEvents = [EventType.approvalRequested, EventType.approvalResolved, EventType.runFinished]
    /// Event types a notifier may choose (never `output`: a push per line would flood the phone).
    public static let notifierAllowedEvents = [
        EventType.runCreated, EventType.runStarted, EventType.approvalRequested, EventType.approvalResolved,
        EventType.diffCreated, EventType.diffApplied, EventType.notice, EventType.runFinished,
    ]
    /// Most notification-worthy events one outbox fill reads (the rest wait for the next fill).
    public static let outboxFillBatch: Int = 500
    /// Most notifiers one claim serves (a row each, sent side by side).
    public static let outboxClaimBatch: Int = 16
    /// How long a claim holds a row before another sender may take it (a sender that died).
    public static let outboxClaimLeaseSeconds: Double = 60
    /// The first retry's delay; each further one doubles it, up to `outboxRetryMaxSeconds`.
    public static let outboxRetryBaseSeconds: Double = 2
    /// The longest delay between two attempts.
    public static let outboxRetryMaxSeconds: Double = 600
    /// Attempts before a notification is given up (`failed`): about a day at the defaults.
    public static let outboxMaxAttempts: Int = 150
    /// Failures in a row that make a notifier `failing` (and append a `notice` to the run).
    public static let notifierFailingAfter: Int = 3
    /// How long sent and given-up notifications stay in the outbox (and used or expired button tokens).
    public static let outboxKeepSeconds: Double = 7 * 24 * 3600
    /// How often the push sender prunes the outbox.
    public static let outboxPruneIntervalSeconds: Double = 3600
    /// Longest summary line, in characters (what is asked is quoted verbatim up to it).
    public static let notificationSummaryMaxCharacters: Int = 200
}
