import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import mdb

/// Sends a notification as a webhook: the payload POSTed as JSON, with
/// `X-M-Delivery` (the dedupe key, the same on every retry) and, with a
/// secret, `X-M-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
struct WebhookSender {
    let http: HTTPClient

    func send(_ delivery: OutboxDelivery) async throws {
        let config = delivery.notifier.configValue
        guard let url = config["url"]?.stringValue else { throw PushError.misconfigured("the webhook has no url") }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "M-push")
        request.headers.add(name: "X-M-Delivery", value: delivery.item.dedupeKey)
        if let secret = config["secret"]?.stringValue, !secret.isEmpty {
            request.headers.add(name: "X-M-Signature-256", value: "sha256=" + Self.signature(delivery.item.payload, secret: secret))
        }
        request.body = .bytes(ByteBuffer(string: delivery.item.payload))
        let response = try await http.execute(request, timeout: .seconds(WebDefaults.pushRequestTimeoutSeconds))
        let body = try await response.body.collect(upTo: 16 * 1024)
        guard (200..<300).contains(response.status.code) else {
            let text = String(buffer: body).prefix(200)
            throw PushError.rejected("HTTP \(response.status.code) from \(url)\(text.isEmpty ? "" : ": \(text)")")
        }
    }

    /// The hex HMAC-SHA256 of `body` under `secret` (what a receiver recomputes to verify).
    static func signature(_ body: String, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }
}

/// Why a notification was not delivered (it is retried with backoff).
enum PushError: Error, CustomStringConvertible {
    case misconfigured(String)
    case rejected(String)
    case command(String)

    var description: String {
        switch self {
        case .misconfigured(let m): return "\(m): remove the notifier and add it again with `mcli notify add`"
        case .rejected(let m), .command(let m): return m
        }
    }
}
