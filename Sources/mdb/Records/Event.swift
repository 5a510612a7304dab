import GRDB

/// A row of `events`: one fact about a run. `seq` is per run, `id` global.
public struct Event: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "events"

    public var id: Int64
    public var runId: Int64
    public var seq: Int64
    public var ts: String
    public var type: String
    /// The event's data as stored: a JSON object's text.
    public var data: String

    enum CodingKeys: String, CodingKey {
        case id, seq, ts, type, data
        case runId = "run_id"
    }

    public init(id: Int64, runId: Int64, seq: Int64, ts: String, type: String, data: String) {
        self.id = id
        self.runId = runId
        self.seq = seq
        self.ts = ts
        self.type = type
        self.data = data
    }

    /// Decodes a row selected as `id, run_id, seq, ts, type, data` (the table's
    /// column order, so `SELECT *` works too). Positional access instead of
    /// Codable: the tailer and replays decode every event, and this is several
    /// times faster.
    public init(row: Row) throws {
        id = row[0]
        runId = row[1]
        seq = row[2]
        ts = row[3]
        type = row[4]
        data = row[5]
    }

    /// The wire form: `{"id":…,"run_id":…,"seq":…,"ts":"…","type":"…","data":{…}}`.
    /// `data` is embedded as stored, so an event is encoded once, not per client.
    public var wireJSON: String {
        var out = "{\"id\":\(id),\"run_id\":\(runId),\"seq\":\(seq),\"ts\":"
        JSONValue.writeString(ts, to: &out)
        out += ",\"type\":"
        JSONValue.writeString(type, to: &out)
        out += ",\"data\":"
        out += data.isEmpty ? "{}" : data
        out += "}"
        return out
    }

    /// The data parsed (an empty object if it is not valid JSON).
    public var dataValue: JSONValue { (try? JSONValue.parse(data)) ?? .object([]) }
}

/// An event about to be appended: its type and data (seq and id come from the bus).
public struct NewEvent: Sendable, Equatable {
    public var type: String
    /// The data as compact JSON text, as it is stored.
    public var json: String
    /// When it happened, if not "now" (an output chunk's read time).
    public var ts: String?

    public init(_ type: String, _ data: JSONValue = .object([]), ts: String? = nil) {
        self.init(type, json: data.text, ts: ts)
    }

    /// An event whose data is already JSON text (relayed, not built here).
    public init(_ type: String, json: String, ts: String? = nil) {
        self.type = type
        self.json = json
        self.ts = ts
    }
}

/// The event types of the contract (DESIGN.md).
public enum EventType {
    public static let runCreated = "run.created"
    public static let runStarted = "run.started"
    public static let output = "output"
    public static let input = "input"
    public static let approvalRequested = "approval.requested"
    public static let approvalResolved = "approval.resolved"
    public static let diffCreated = "diff.created"
    public static let diffApplied = "diff.applied"
    public static let cancelRequested = "cancel.requested"
    public static let notice = "notice"
    public static let agentMessage = "agent.message"
    public static let toolCall = "tool.call"
    public static let toolResult = "tool.result"
    public static let agentTurnEnd = "agent.turn_end"
    public static let runFinished = "run.finished"
}
