import GRDB

/// A row of `web_listeners`: where one mweb process serves, and whether with TLS.
public struct WebListener: Codable, Sendable, Equatable, FetchableRecord {
    /// The row's id.
    public var id: Int64
    /// The machine mweb runs on.
    public var hostname: String
    /// mweb's process id.
    public var pid: Int32
    /// The process's start time (clock ticks after boot), to tell a reused pid apart.
    public var startTicks: Int64?
    /// The bound address (`--host`).
    public var host: String
    /// The port it accepts connections on.
    public var port: Int
    /// Whether it serves HTTPS itself.
    public var tls: Bool
    /// `--public-url`, when set (behind a reverse proxy).
    public var publicURL: String?
    /// When it started serving.
    public var startedAt: String
    /// When it stopped cleanly (nil while it runs, or if it was killed).
    public var stoppedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, hostname, pid, host, port, tls
        case startTicks = "start_ticks", publicURL = "public_url", startedAt = "started_at", stoppedAt = "stopped_at"
    }
}

extension MDatabase {
    /// Records that this mweb serves on `host:port`; returns the row's id.
    /// Rows of listeners that stopped are deleted on the way: only live ones matter.
    public func recordWebListener(hostname: String, pid: Int32, startTicks: Int64?, host: String, port: Int,
                                  tls: Bool, publicURL: String?) throws -> Int64 {
        try write { db in
            try db.execute(sql: "DELETE FROM web_listeners WHERE stopped_at IS NOT NULL")
            try db.execute(sql: """
                INSERT INTO web_listeners (hostname, pid, start_ticks, host, port, tls, public_url)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [hostname, pid, startTicks, host, port, tls, publicURL])
            return db.lastInsertedRowID
        }
    }

    /// Marks a listener stopped (mweb's clean shutdown).
    public func stopWebListener(id: Int64) throws {
        try write { db in
            try db.execute(sql: "UPDATE web_listeners SET stopped_at = \(Timestamp.sqlNow) WHERE id = ?", arguments: [id])
        }
    }

    /// Listeners not marked stopped, oldest first (a killed mweb's row stays: check its pid).
    public func webListeners() throws -> [WebListener] {
        try read { try WebListener.fetchAll($0, sql: "SELECT * FROM web_listeners WHERE stopped_at IS NULL ORDER BY id") }
    }
}
