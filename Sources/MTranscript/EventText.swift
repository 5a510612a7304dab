import Foundation
import mdb

/// The readable text of events, for search and transcripts.
public enum EventText {
    /// An output event's text as the program wrote it (escapes included):
    /// `text`, or `b64` decoded with invalid UTF-8 replaced (U+FFFD).
    public static func output(_ data: JSONValue) -> String {
        if let text = data["text"]?.stringValue { return text }
        if let b64 = data["b64"]?.stringValue, let bytes = Data(base64Encoded: b64) {
            return String(decoding: bytes, as: UTF8.self)
        }
        return ""
    }

    /// True for the event types whose text the search index holds.
    public static func isSearchable(_ type: String) -> Bool {
        type == EventType.output || type == EventType.agentMessage || type == EventType.notice
    }

    /// What the search index holds for `event`: the readable text of an
    /// output chunk, an agent's message or a notice (escapes and control
    /// characters stripped); nil for other events and for text with no words.
    public static func searchable(_ event: Event) -> String? {
        guard isSearchable(event.type) else { return nil }
        let data = event.dataValue
        let raw = event.type == EventType.output ? output(data) : data["text"]?.stringValue ?? ""
        let text = TerminalParser.plainText(raw)
        return text.contains(where: { $0.isLetter || $0.isNumber }) ? text : nil
    }

    /// `events` turned into search documents (those with something to find).
    public static func searchDocuments(_ events: [Event]) -> [SearchDocument] {
        events.compactMap { event in
            searchable(event).map { SearchDocument(eventId: event.id, runId: event.runId, seq: event.seq, text: $0) }
        }
    }
}
