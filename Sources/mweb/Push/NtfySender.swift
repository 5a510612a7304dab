import AsyncHTTPClient
import Foundation
import MAuth
import NIOCore
import Synchronization
import mdb

/// The address a phone reaches mweb at, for links and buttons in notifications:
/// `--public-url` when given, else the address mweb listens on.
final class PushLinks: Sendable {
    private let base: Mutex<String?>

    init(publicURL: String?) { base = Mutex(publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }) }

    /// Called once the server listens; a `--public-url` wins.
    func listening(at url: String) { base.withLock { if $0 == nil { $0 = url } } }

    var url: String { base.withLock { $0 ?? "http://127.0.0.1" } }
}

/// Sends a notification to an ntfy topic with ntfy's JSON publishing API
/// (`POST SERVER/` with `topic`, `title`, `message`, `priority`, `tags`,
/// `click`, `actions`). An approval gets Approve / Reject `http` action
/// buttons that POST to mweb's `/api/v1/actions/approvals/{id}` with a
/// single-use, expiring token of their own in the Authorization header
/// (never in a URL); that token can decide that approval once, and nothing else.
struct NtfySender {
    let http: HTTPClient
    let links: PushLinks
    let db: OnThread

    func send(_ delivery: OutboxDelivery) async throws {
        let config = delivery.notifier.configValue
        guard let url = config["url"]?.stringValue, let slash = url.lastIndex(of: "/") else {
            throw PushError.misconfigured("the ntfy notifier has no SERVER/TOPIC url")
        }
        let server = String(url[..<slash]), topic = String(url[url.index(after: slash)...])
        let payload = (try? JSONValue.parse(delivery.item.payload)) ?? .object([])
        let event = payload["event"] ?? .object([])
        let type = event["type"]?.stringValue ?? ""
        let runId = event["run_id"]?.intValue
        var message: [(String, JSONValue)] = [
            ("topic", .string(topic)),
            ("title", .string(payload["title"]?.stringValue ?? "M")),
            ("message", .string(payload["summary"]?.stringValue ?? "")),
        ]
        let failed = type == EventType.runFinished && event["data"]?["status"]?.stringValue != "succeeded"
        message.append(("priority", .int(type == EventType.approvalRequested || failed ? 4 : 3)))
        let tag = type == EventType.approvalRequested ? "question" : type == EventType.runFinished ? (failed ? "x" : "white_check_mark") : "bell"
        message.append(("tags", .array([.string(tag)])))
        if let runId { message.append(("click", .string("\(links.url)/#/runs/\(runId)"))) }
        if type == EventType.approvalRequested, let approvalId = event["data"]?["approval_id"]?.intValue {
            let secret = Secret.generate()
            let hash = Secret.hash(secret)
            let notifierId = delivery.notifier.id
            try await db.call { try $0.issueActionToken(approvalId: approvalId, notifierId: notifierId, hash: hash,
                                                        lifetimeSeconds: WebDefaults.actionTokenLifetimeSeconds) }
            let target = "\(links.url)/api/v1/actions/approvals/\(approvalId)"
            message.append(("actions", .array(Decision.allCases.map { decision in
                .object([
                    ("action", "http"), ("label", .string(decision == .approve ? "Approve" : "Reject")),
                    ("url", .string(target)), ("method", "POST"),
                    ("headers", .object([("Authorization", .string("Bearer \(secret)")), ("Content-Type", "application/json")])),
                    ("body", .string(JSONValue.object([("decision", .string(decision.rawValue))]).text)),
                    ("clear", true),
                ])
            })))
        }
        var request = HTTPClientRequest(url: server + "/")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-M-Delivery", value: delivery.item.dedupeKey)
        if let token = config["token"]?.stringValue, !token.isEmpty {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        request.body = .bytes(ByteBuffer(string: JSONValue.object(message).text))
        let response = try await http.execute(request, timeout: .seconds(WebDefaults.pushRequestTimeoutSeconds))
        let body = try await response.body.collect(upTo: 16 * 1024)
        guard (200..<300).contains(response.status.code) else {
            throw PushError.rejected("HTTP \(response.status.code) from \(server)\(body.readableBytes > 0 ? ": \(String(buffer: body).prefix(200))" : "")")
        }
    }
}
