import AsyncHTTPClient
import Crypto
import Foundation
import MAuth
import NIOCore
import Synchronization
import mdb

/// Sends a notification to every APNs device token of the native app, as
/// Apple documents it: HTTP/2 `POST /3/device/<token>` with token
/// authentication (an ES256 JWT from the team's `.p8` key, `kid` and `iss`,
/// reused for up to `WebDefaults.apnsTokenReuseSeconds`), `apns-topic`,
/// `apns-push-type: alert`, `apns-priority`, `apns-collapse-id` (the approval's
/// request and resolution share it) and `apns-expiration`. An approval carries
/// the `M_APPROVAL` category (Approve / Reject in the app). 410 `Unregistered`
/// and 400 `BadDeviceToken` delete the token; other failures are retried.
struct APNsSender {
    let http: HTTPClient
    let links: PushLinks
    let db: OnThread
    let tokens: APNsTokenCache

    /// The category whose actions (Approve / Reject) the native app registers.
    static let approvalCategory = "M_APPROVAL"

    func send(_ delivery: OutboxDelivery) async throws {
        let config = delivery.notifier.configValue
        guard let keyPath = config["key_path"]?.stringValue, let keyId = config["key_id"]?.stringValue,
              let teamId = config["team_id"]?.stringValue, let topic = config["topic"]?.stringValue else {
            throw PushError.misconfigured("the apns notifier lacks its key, key id, team id or topic")
        }
        let server = config["server"]?.stringValue
            ?? (config["environment"]?.stringValue == "sandbox" ? "https://api.sandbox.push.apple.com" : "https://api.push.apple.com")
        let jwt = try tokens.token(keyPath: keyPath, keyId: keyId, teamId: teamId)
        let note = PhoneNotification(payload: delivery.item.payload, baseURL: links.url)
        let payload = Self.payload(note).text
        let devices = try await db.call { try $0.pushSubscriptions(kind: NotifierKind.apns.rawValue) }
        // Nobody to send to: a real notification is done; a test (`mcli notify test`) says why nothing arrived.
        if devices.isEmpty, note.type == "test" { throw PushError.rejected("no device token is registered yet: the app registers one with POST /api/v1/push/devices") }
        let failures = await withTaskGroup(of: String?.self) { group in
            for device in devices {
                group.addTask {
                    do {
                        try await post(payload, note: note, to: device.endpoint, server: server, topic: topic, jwt: jwt)
                        try? await db.call { try $0.markPushSubscriptionSent(id: device.id) }
                        return nil
                    } catch WebPushOutcome.gone {
                        try? await db.call { try $0.dropPushSubscription(id: device.id) }
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

    /// `aps` (alert, category for approvals, thread per run, sound) and M's fields.
    static func payload(_ note: PhoneNotification) -> JSONValue {
        var aps: [(String, JSONValue)] = [("alert", .object([("title", .string(note.title)), ("body", .string(note.body))]))]
        if note.asksForDecision {
            aps.append(("category", .string(approvalCategory)))
            aps.append(("sound", "default"))
        }
        if let runId = note.runId { aps.append(("thread-id", .string("m-run-\(runId)"))) }
        return .object([
            ("aps", .object(aps)), ("type", .string(note.type)), ("url", .string(note.url)),
            ("run_id", note.runId.map { .int($0) } ?? .null), ("approval_id", note.approvalId.map { .int($0) } ?? .null),
        ])
    }

    private func post(_ payload: String, note: PhoneNotification, to device: String, server: String, topic: String,
                      jwt: String) async throws {
        var request = HTTPClientRequest(url: "\(server)/3/device/\(device)")
        request.method = .POST
        request.headers.add(name: "authorization", value: "bearer \(jwt)")
        request.headers.add(name: "apns-topic", value: topic)
        request.headers.add(name: "apns-push-type", value: "alert")
        request.headers.add(name: "apns-priority", value: note.asksForDecision ? "10" : "5")
        request.headers.add(name: "apns-collapse-id", value: note.tag)
        request.headers.add(name: "apns-expiration", value: String(Int64(Date().timeIntervalSince1970) + WebDefaults.pushTimeToLiveSeconds))
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: payload))
        let response = try await http.execute(request, timeout: .seconds(WebDefaults.pushRequestTimeoutSeconds))
        let body = String(buffer: try await response.body.collect(upTo: 16 * 1024))
        let reason = (try? JSONValue.parse(body))?["reason"]?.stringValue ?? ""
        if response.status.code == 410 || (response.status.code == 400 && reason == "BadDeviceToken") { throw WebPushOutcome.gone }
        guard response.status.code == 200 else {
            throw PushError.rejected("APNs answered \(response.status.code)\(reason.isEmpty ? "" : " \(reason)")")
        }
    }
}

/// APNs provider tokens, reused while younger than `WebDefaults.apnsTokenReuseSeconds`
/// (Apple refuses tokens older than an hour, and too many new ones).
final class APNsTokenCache: Sendable {
    private let cache = Mutex<[String: (token: String, issuedAt: Date)]>([:])

    /// A token for this key, made from the `.p8` file when none is fresh.
    func token(keyPath: String, keyId: String, teamId: String, now: Date = Date()) throws -> String {
        let id = "\(keyPath)|\(keyId)|\(teamId)"
        if let cached = cache.withLock({ $0[id] }), now.timeIntervalSince(cached.issuedAt) < WebDefaults.apnsTokenReuseSeconds {
            return cached.token
        }
        let pem: String
        let key: P256.Signing.PrivateKey
        do {
            pem = try String(contentsOfFile: keyPath, encoding: .utf8)
            key = try P256.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw PushError.misconfigured("the APNs key \(keyPath) cannot be read as a .p8 (PEM P-256) key: \(error)")
        }
        let header = JSONValue.object([("alg", "ES256"), ("kid", .string(keyId))]).text
        let claims = JSONValue.object([("iss", .string(teamId)), ("iat", .int(Int64(now.timeIntervalSince1970)))]).text
        let token = try ES256JWT.sign(header: header, claims: claims, key: key)
        cache.withLock { $0[id] = (token, now) }
        return token
    }
}
