import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import mdb

/// Who is calling: the token behind the request and how it was presented.
struct Identity: Sendable {
    var tokenId: Int64
    var name: String
    var scope: TokenScope
    /// True when the request was authenticated by the session cookie (a
    /// browser), false for an `Authorization: Bearer` header.
    var viaCookie: Bool
}

/// mweb's request context: Hummingbird's core storage, the WebSocket handler
/// slot (one router serves HTTP and WebSocket routes) and the caller's identity.
struct MRequestContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<MRequestContext>
    /// The peer's IP address (the key of the failed-login limiter).
    let peerAddress: String
    /// Set by `Authenticator` on every `/api/v1` route that needs a token.
    var identity: Identity?
    /// The connection; a WebSocket stream writes its event frames straight into it (`FrameWriter`, `ChannelSink`).
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        peerAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
        channel = source.channel
    }

    /// Bodies are read by `Body.read`, which enforces mweb's own limit.
    var maxUploadSize: Int { WebDefaults.maxBodyBytes }

    /// The caller's identity if its scope allows `required`; 403 otherwise.
    func require(_ required: TokenScope) throws -> Identity {
        guard let identity else { throw APIError.unauthorized() }
        guard identity.scope.allows(required) else {
            throw APIError(.forbidden, "forbidden",
                           "this token's scope is '\(identity.scope.rawValue)'; this needs '\(required.rawValue)': create one with `mcli token create --scope \(required.rawValue)`")
        }
        return identity
    }
}
