import mdb

/// How an mweb server is set up: from flags in the real process, by hand in tests.
struct AppConfig: Sendable {
    /// The certificate chain and key (PEM files) for HTTPS.
    struct TLSFiles: Sendable {
        var certificate: String
        var key: String
    }

    var databasePath: String
    var host = "127.0.0.1"
    /// 0 picks a free port; `onListening` gets the real one.
    var port = 8080
    var tls: TLSFiles?
    /// The address people use when mweb sits behind a reverse proxy
    /// (`https://m.example.org`): allowed as a WebSocket Origin, and an https
    /// one makes the session cookie Secure.
    var publicURL: String?
    var clientQueueFrames = WebDefaults.clientQueueFrames
    var failedAuthLimit = WebDefaults.failedAuthLimit
    /// How failed pushes are retried.
    var pushRetry = RetryPolicy()
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the real
    /// client (for the failed-login limiter); from anyone else it is ignored.
    var trustedProxies: [String] = []
    /// Whether this mweb fills the search index (off only for mbench's baseline).
    var searchIndex = true
    /// See `WebDefaults.headerTimeoutSeconds`.
    var headerTimeoutSeconds = WebDefaults.headerTimeoutSeconds
    /// See `WebDefaults.idleTimeoutSeconds`.
    var idleTimeoutSeconds = WebDefaults.idleTimeoutSeconds
    /// See `WebDefaults.maxConnections`.
    var maxConnections = WebDefaults.maxConnections

    init(databasePath: String) {
        self.databasePath = databasePath
    }
}
