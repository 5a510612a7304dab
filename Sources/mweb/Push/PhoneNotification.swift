import Foundation
import mdb

/// What a phone shows for a notification (Web Push and APNs alike): a title,
/// a body, the run it opens, and a tag shared by an approval's request and its
/// resolution, so that "approved elsewhere" or "expired" replaces "Approval
/// needed" instead of showing beside it (Web Push `tag` and `Topic`, APNs'
/// collapse id).
struct PhoneNotification: Equatable {
    var type: String
    var title: String
    var body: String
    var tag: String
    /// The run in the web app (`…/#/runs/ID`), or the app itself.
    var url: String
    var runId: Int64?
    var approvalId: Int64?

    init(payload: String, baseURL: String) {
        let json = (try? JSONValue.parse(payload)) ?? .object([])
        let event = json["event"] ?? .object([])
        type = event["type"]?.stringValue ?? ""
        runId = event["run_id"]?.intValue
        approvalId = event["data"]?["approval_id"]?.intValue
        title = json["title"]?.stringValue ?? "M"
        body = json["summary"]?.stringValue ?? ""
        if type == EventType.approvalResolved {
            let decision = event["data"]?["decision"]?.stringValue ?? "resolved"
            let by = event["data"]?["by"]?.stringValue
            title = decision == "expired" ? "Approval expired" : "Approval \(decision)"
            if let by, decision != "expired" { body += " by \(by)" }
        }
        if let approvalId, type == EventType.approvalRequested || type == EventType.approvalResolved {
            tag = "m-approval-\(approvalId)"
        } else if let runId {
            tag = "m-run-\(runId)"
        } else {
            tag = "m-test"
        }
        url = runId.map { "\(baseURL)/#/runs/\($0)" } ?? "\(baseURL)/"
    }

    /// An approval waits: the phone should ring now and offer Approve / Reject.
    var asksForDecision: Bool { type == EventType.approvalRequested }

    /// The Web Push `Topic` header (at most 32 URL-safe base64 characters): the tag without its prefix.
    var topic: String { String(tag.dropFirst(2).replacingOccurrences(of: "approval-", with: "a").replacingOccurrences(of: "run-", with: "r").prefix(32)) }

    /// The JSON the service worker reads (`Public/sw.js`).
    var webPushJSON: JSONValue {
        .object([
            ("type", .string(type)), ("title", .string(title)), ("body", .string(body)), ("tag", .string(tag)),
            ("url", .string(url)), ("run_id", runId.map { .int($0) } ?? .null),
            ("approval_id", approvalId.map { .int($0) } ?? .null),
        ])
    }
}
