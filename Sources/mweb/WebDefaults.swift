/// mweb's tunables in one place, with their units in their names.
enum WebDefaults {
    /// The largest request body accepted (larger ones get 413 before being read whole).
    static let maxBodyBytes = 1 << 20
    /// Frames a WebSocket client may fall behind before it is closed with `slowClientCloseCode`.
    static let clientQueueFrames = 8_192
    /// The close code sent to a client that fell too far behind; it resumes with `after=`.
    static let slowClientCloseCode: UInt16 = 4008
    /// How long a slow client gets to read up to its close frame before the socket is closed.
    static let slowClientCloseGraceSeconds = 10
    /// Failed logins allowed per client address within `failedAuthWindowSeconds` before 429.
    static let failedAuthLimit = 10
    /// The window (and the Retry-After) of the failed-login limiter.
    static let failedAuthWindowSeconds: Double = 60
    /// Events read from the database per query when replaying or tailing.
    static let pageSize = 1_000
    /// Longest the tailer sleeps without a commit before checking whether to stop.
    static let idleWakeMilliseconds = 250
    /// Largest `limit` a list accepts (larger ones are clamped).
    static let maxListLimit = 1_000
    /// Threads that run mweb's SQLite reads (`ThreadedStore`; writes have one thread of their own).
    static let storeReaderThreads = 4
    /// How soon the push service tries again to fill the outbox after a failed fill (a busy database).
    static let pushFillRetrySeconds: Double = 1
    /// The pause between two of the search indexer's batches while it catches
    /// up, in which executors take the write lock (a live run's output is one batch).
    static let searchIndexPauseMilliseconds = 5
    /// The search indexer rests this many times as long as its last batch took.
    static let searchIndexRestFactor = 4
    /// The longest search text accepted (a longer one is a 400).
    static let maxSearchBytes = 1_000
    /// Hits a search answers unless `limit` says otherwise.
    static let searchHitsDefault = 50
    /// Longest a webhook or ntfy request may take before it counts as failed.
    static let pushRequestTimeoutSeconds: Int64 = 10
    /// Longest an exec notifier's command may run before it is killed.
    static let pushCommandTimeoutSeconds: Double = 30
    /// Threads that run (and wait for) exec notifiers' commands.
    static let pushCommandThreads = 2
    /// How long a push service keeps an undelivered Web Push or APNs notification (TTL, apns-expiration).
    static let pushTimeToLiveSeconds: Int64 = 24 * 3600
    /// A VAPID JWT's lifetime (RFC 8292 allows at most 24 h).
    static let vapidTokenLifetimeSeconds: Int64 = 12 * 3600
    /// How long an APNs provider token is reused (Apple: refresh at most every 20 min, never older than 1 h).
    static let apnsTokenReuseSeconds: Double = 50 * 60
    /// How long a notification's Approve / Reject buttons work.
    static let actionTokenLifetimeSeconds: Double = 24 * 3600
    /// The session cookie's name over plain HTTP (a loopback address).
    static let sessionCookie = "m_session"
    /// The session cookie's name over HTTPS: the `__Host-` prefix makes browsers
    /// keep it Secure, host-only and at `/`, so a sibling host cannot set or shadow it.
    static let secureSessionCookie = "__Host-m_session"
    /// How long a new connection has to send its first complete request head (and finish TLS).
    static let headerTimeoutSeconds: Int64 = 10
    /// How long a keep-alive connection may sit between requests before it is closed.
    static let idleTimeoutSeconds: Int64 = 60
    /// Connections open at once (lowered to what `ulimit -n` allows, see `reservedDescriptors`).
    static let maxConnections = 4_096
    /// Descriptors kept free of connections for the database, pipes and event loops.
    static let reservedDescriptors = 64
}
