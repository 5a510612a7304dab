import Foundation
import HTTPTypes
import Hummingbird
import MAuth
import mdb

/// `/session`: a browser trades a token for an HttpOnly, SameSite=Strict
/// cookie (browsers cannot put headers on a WebSocket, and tokens must not
/// travel in URLs). The cookie is Secure when mweb serves TLS or sits behind
/// an HTTPS proxy.
struct SessionController {
    let store: any MStore
    let authenticator: Authenticator
    let limiter: FailedAuthLimiter
    let config: AppConfig

    func addRoutes(to group: RouterGroup<MRequestContext>) {
        group.post("session", use: login)
        group.get("session", use: whoAmI)
        group.delete("session", use: logout)
    }

    @Sendable func login(_ request: Request, context: MRequestContext) async throws -> Response {
        if let wait = limiter.retryAfter(context.peerAddress) { throw FailedAuthLimiter.tooMany(retryAfter: wait) }
        let body = try await RequestInput.jsonObject(request)
        guard let secret = try body.string("token"), !secret.isEmpty else {
            throw APIError.invalid("send {\"token\": \"m_…\"}; `mcli token create` makes one")
        }
        guard let token = try await authenticator.lookUpToken(secret: secret) else {
            limiter.recordFailure(context.peerAddress)
            throw APIError.unauthorized("that token is not valid (revoked or mistyped)")
        }
        let cookieValue = Secret.generate(prefix: "s_")
        _ = try await store.createSession(tokenId: token.id, hash: Secret.hash(cookieValue),
                                    lifetimeSeconds: Defaults.sessionLifetimeSeconds)
        var response = JSONResponse.make(.object([("name", .string(token.name)), ("scope", .string(token.scope))]))
        response.setCookie(Cookie(name: WebDefaults.sessionCookie, value: cookieValue,
                                  maxAge: Int(Defaults.sessionLifetimeSeconds), path: "/",
                                  secure: secure(request), httpOnly: true, sameSite: .strict))
        return response
    }

    @Sendable func whoAmI(_ request: Request, context: MRequestContext) async throws -> Response {
        let identity = try await authenticator.authenticate(request, peer: context.peerAddress)
        return JSONResponse.make(.object([("name", .string(identity.name)), ("scope", .string(identity.scope.rawValue))]))
    }

    @Sendable func logout(_ request: Request, context: MRequestContext) async throws -> Response {
        if let cookie = request.cookies[WebDefaults.sessionCookie]?.value {
            _ = try await store.deleteSession(hash: Secret.hash(cookie))
        }
        var response = Response(status: .noContent)
        response.setCookie(Cookie(name: WebDefaults.sessionCookie, value: "", maxAge: 0, path: "/",
                                  secure: secure(request), httpOnly: true, sameSite: .strict))
        return response
    }

    /// Secure when the browser reached us over HTTPS: our own TLS, a proxy that
    /// says so, or a configured https public URL.
    private func secure(_ request: Request) -> Bool {
        config.tls != nil
            || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
            || (config.publicURL?.hasPrefix("https://") ?? false)
    }
}
