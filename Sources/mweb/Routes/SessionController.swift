import Foundation
import HTTPTypes
import Hummingbird
import MAuth
import mdb

/// `/session`: a browser trades a token for an HttpOnly, SameSite=Strict
/// cookie (browsers cannot put headers on a WebSocket, and tokens must not
/// travel in URLs). Over HTTPS it is `__Host-m_session`, Secure (`SessionCookie`).
/// A wrong token counts as a failed login (`Authenticator.failure`).
struct SessionController {
    let store: any MStore
    let authenticator: Authenticator
    let config: AppConfig

    func addRoutes(to group: RouterGroup<MRequestContext>) {
        group.post("session", use: login)
        group.get("session", use: whoAmI)
        group.delete("session", use: logout)
    }

    @Sendable func login(_ request: Request, context: MRequestContext) async throws -> Response {
        let body = try await RequestInput.jsonObject(request)
        guard let secret = try body.string("token"), !secret.isEmpty else {
            throw APIError.invalid("send {\"token\": \"m_…\"}; `mcli token create` makes one")
        }
        guard let token = try await authenticator.lookUpToken(secret: secret) else {
            throw authenticator.failure(request, peer: context.peerAddress,
                                        APIError.unauthorized("that token is not valid (revoked or mistyped)"))
        }
        let cookieValue = Secret.generate(prefix: "s_")
        _ = try await store.createSession(tokenId: token.id, hash: Secret.hash(cookieValue),
                                    lifetimeSeconds: Defaults.sessionLifetimeSeconds)
        var response = JSONResponse.make(.object([("name", .string(token.name)), ("scope", .string(token.scope))]))
        response.setCookie(SessionCookie.make(cookieValue, maxAge: Int(Defaults.sessionLifetimeSeconds),
                                              for: request, config: config))
        return response
    }

    @Sendable func whoAmI(_ request: Request, context: MRequestContext) async throws -> Response {
        let identity = try await authenticator.authenticate(request, peer: context.peerAddress)
        return JSONResponse.make(.object([("name", .string(identity.name)), ("scope", .string(identity.scope.rawValue))]))
    }

    @Sendable func logout(_ request: Request, context: MRequestContext) async throws -> Response {
        if let cookie = SessionCookie.value(request, config: config) {
            _ = try await store.deleteSession(hash: Secret.hash(cookie))
        }
        var response = Response(status: .noContent)
        response.setCookie(SessionCookie.make("", maxAge: 0, for: request, config: config))
        return response
    }
}
