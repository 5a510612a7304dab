import GRDB

/// A row of `workers`: one mexec daemon and its heartbeat.
public struct Worker: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "workers"

    public var id: String
    public var hostname: String
    public var pid: Int32
    public var concurrency: Int
    public var startedAt: String
    public var heartbeatAt: String
    public var stoppedAt: String?
    public var status: String

    enum CodingKeys: String, CodingKey {
        case id, hostname, pid, concurrency, status
        case startedAt = "started_at", heartbeatAt = "heartbeat_at", stoppedAt = "stopped_at"
    }
}
