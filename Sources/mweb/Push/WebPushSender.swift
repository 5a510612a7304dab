import AsyncHTTPClient
import Crypto
import Foundation
import MAuth
import NIOCore
import mdb

/// Sends a notification to every Web Push subscription of the web app: the
/// payload encrypted per RFC 8291 (`aes128gcm`), a VAPID JWT (RFC 8292, ES256)
/// signed with the server's key, and `TTL`, `Urgency` and `Topic` (so a
/// resolution replaces a waiting request on the push service too). A 404 or
/// 410 means the browser dropped the subscription: it is deleted. Any other
/// failure fails the notification, which the outbox retries; the phones that
/// had it already get it again under the same tag, which replaces it.
struct WebPushSender {
    let http: HTTPClient
    let links: PushLinks
    let db: OnThread

    func send(_ delivery: OutboxDelivery) async throws {
        guard let keys = try await db.call({ try $0.vapidKeys() }),
              let signingKey = Base64URL.decode(keys.privateKey),
              (try? P256.Signing.PrivateKey(rawRepresentation: signingKey)) != nil else {
            throw PushError.misconfigured("the server has no usable VAPID key")
        }
        let subject = delivery.notifier.configValue["subject"]?.stringValue ?? ""
        let note = PhoneNotification(payload: delivery.item.payload, baseURL: links.url)
        let subscriptions = try await db.call { try $0.pushSubscriptions(kind: NotifierKind.webpush.rawValue) }
        // Nobody to send to: a real notification is done; a test (`mcli notify test`) says why nothing arrived.
        if subscriptions.isEmpty, note.type == "test" { throw PushError.rejected("no browser has turned on notifications yet: tap “Turn on notifications” in the web app") }
        let failures = await withTaskGroup(of: String?.self) { group in
            for subscription in subscriptions {
                group.addTask {
                    do {
                        try await post(note, to: subscription, signingKey: signingKey, publicKey: keys.publicKey, subject: subject)
                        try? await db.call { try $0.markPushSubscriptionSent(id: subscription.id) }
                        return nil
                    } catch WebPushOutcome.gone {
                        try? await db.call { try $0.dropPushSubscription(id: subscription.id) }
                        return nil
                    } catch {
                        return "\(error)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
        }
        if !failures.isEmpty { throw PushError.rejected(failures.joined(separator: "; ")) }
    }

    /// One encrypted request to one push service.
    private func post(_ note: PhoneNotification, to subscription: PushSubscription, signingKey: Data,
                      publicKey: String, subject: String) async throws {
        guard let p256dh = subscription.p256dh.flatMap(Base64URL.decode), let auth = subscription.auth.flatMap(Base64URL.decode),
              let origin = Self.origin(of: subscription.endpoint) else {
            throw WebPushOutcome.gone  // unusable: registered before validation, or damaged
        }
        let body = try WebPushEncryption.encrypt(Data(note.webPushJSON.text.utf8), p256dh: p256dh, auth: auth)
        let jwt = try Self.vapidJWT(audience: origin, subject: subject, key: try P256.Signing.PrivateKey(rawRepresentation: signingKey))
        var request = HTTPClientRequest(url: subscription.endpoint)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "vapid t=\(jwt),k=\(publicKey)")
        request.headers.add(name: "Content-Encoding", value: "aes128gcm")
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.headers.add(name: "TTL", value: String(WebDefaults.pushTimeToLiveSeconds))
        request.headers.add(name: "Urgency", value: note.asksForDecision ? "high" : "normal")
        request.headers.add(name: "Topic", value: note.topic)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await http.execute(request, timeout: .seconds(WebDefaults.pushRequestTimeoutSeconds))
        let text = String(buffer: try await response.body.collect(upTo: 16 * 1024)).prefix(200)
        if response.status.code == 404 || response.status.code == 410 { throw WebPushOutcome.gone }
        guard (200..<300).contains(response.status.code) else {
            throw PushError.rejected("HTTP \(response.status.code) from \(origin)\(text.isEmpty ? "" : ": \(text)")")
        }
    }

    /// The VAPID JWT: `aud` the push service's origin, `exp` 12 h ahead (at most 24 h is allowed), `sub` the contact.
    static func vapidJWT(audience: String, subject: String, key: P256.Signing.PrivateKey, now: Date = Date()) throws -> String {
        let claims = JSONValue.object([
            ("aud", .string(audience)), ("exp", .int(Int64(now.timeIntervalSince1970) + WebDefaults.vapidTokenLifetimeSeconds)),
            ("sub", .string(subject)),
        ])
        return try ES256JWT.sign(header: #"{"typ":"JWT","alg":"ES256"}"#, claims: claims.text, key: key)
    }

    /// `scheme://host[:port]` of a URL, or nil.
    static func origin(of endpoint: String) -> String? {
        guard let url = URL(string: endpoint), let scheme = url.scheme, let host = url.host else { return nil }
        return "\(scheme)://\(host.contains(":") ? "[\(host)]" : host)\(url.port.map { ":\($0)" } ?? "")"
    }
}

/// The push service no longer knows the subscription (404/410): delete it.
enum WebPushOutcome: Error { case gone }
