import Crypto
import Foundation
import Hummingbird
import MAuth
import mdb

/// `/push/…` (steer): what the phone registers to receive pushes — the web
/// app's Web Push subscription (with the server's VAPID public key to
/// subscribe with) and the native app's APNs device token.
struct PushController {
    let store: any MStore

    func addRoutes(to group: RouterGroup<MRequestContext>) {
        group.get("push/vapid-key", use: vapidKey)
        group.post("push/subscriptions", use: subscribe)
        group.delete("push/subscriptions", use: unsubscribe)
        group.post("push/devices", use: addDevice)
        group.delete("push/devices/:token", use: removeDevice)
    }

    /// `{public_key}` (base64url, for `PushManager.subscribe`'s `applicationServerKey`), or 404 while Web Push is off.
    @Sendable func vapidKey(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.steer)
        guard let key = try await store.webPushPublicKey() else {
            throw APIError(.notFound, "not_found", "Web Push is off on this server: `mcli notify add webpush --subject mailto:you@example.org` turns it on")
        }
        return JSONResponse.make(.object([("public_key", .string(key))]))
    }

    /// The browser's `PushSubscription.toJSON()`: `{endpoint, keys: {p256dh, auth}}` → 201.
    @Sendable func subscribe(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.steer)
        let body = try await RequestInput.jsonObject(request)
        let endpoint = try Self.endpoint(body)
        guard let keys = body["keys"], case .object = keys,
              let p256dh = try keys.string("p256dh"), let auth = try keys.string("auth") else {
            throw APIError.invalid("`keys` must be {p256dh, auth}, as PushSubscription.toJSON() gives them")
        }
        guard let point = Base64URL.decode(p256dh), point.count == 65, point.first == 4,
              (try? P256.KeyAgreement.PublicKey(x963Representation: point)) != nil else {
            throw APIError.invalid("`keys.p256dh` must be a base64url uncompressed P-256 point (65 bytes)")
        }
        guard let secret = Base64URL.decode(auth), secret.count == 16 else {
            throw APIError.invalid("`keys.auth` must be 16 bytes, base64url")
        }
        let added = try await store.addPushSubscription(kind: .webpush, endpoint: endpoint, p256dh: p256dh, auth: auth)
        return JSONResponse.make(added.json, status: .created)
    }

    /// `{endpoint}` → the removed subscription (404 if none).
    @Sendable func unsubscribe(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.steer)
        let body = try await RequestInput.jsonObject(request)
        guard let endpoint = try body.string("endpoint"), !endpoint.isEmpty else { throw APIError.invalid("`endpoint` is required") }
        return JSONResponse.make(try await store.removePushSubscription(kind: .webpush, endpoint: endpoint).json)
    }

    /// `{token}`: an APNs device token (hex) → 201.
    @Sendable func addDevice(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.steer)
        let body = try await RequestInput.jsonObject(request)
        let token = try Self.deviceToken(try body.string("token") ?? "")
        let added = try await store.addPushSubscription(kind: .apns, endpoint: token, p256dh: nil, auth: nil)
        return JSONResponse.make(added.json, status: .created)
    }

    /// Removes a device token → the removed registration (404 if none).
    @Sendable func removeDevice(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.steer)
        let token = try Self.deviceToken(context.parameters.get("token") ?? "")
        return JSONResponse.make(try await store.removePushSubscription(kind: .apns, endpoint: token).json)
    }

    /// The push service's URL: https, or http to a loopback address (a local test endpoint).
    static func endpoint(_ body: JSONValue) throws -> String {
        guard let endpoint = try body.string("endpoint"), endpoint.count <= 2048,
              let url = URL(string: endpoint), let host = url.host, !host.isEmpty else {
            throw APIError.invalid("`endpoint` must be the push service's URL (at most 2048 characters)")
        }
        let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)
        guard url.scheme == "https" || (url.scheme == "http" && loopback) else {
            throw APIError.invalid("`endpoint` must be an https:// URL")
        }
        return endpoint
    }

    /// A device token: hex, 32 to 200 bytes' worth, lowercased.
    static func deviceToken(_ text: String) throws -> String {
        let token = text.lowercased()
        guard (64...400).contains(token.count), token.count % 2 == 0, token.allSatisfy(\.isHexDigit) else {
            throw APIError.invalid("`token` must be the APNs device token in hex (64 or more hex digits)")
        }
        return token
    }
}
