import Foundation
import HTTPTypes
import Hummingbird
import MAuth
import mdb

/// Finds the caller's token from `Authorization: Bearer` or the session cookie
/// and puts its identity in the context; 401 without a valid one, 429 for an
/// address that failed too often. Scopes are checked by each route (`require`).
struct Authenticator: RouterMiddleware {
    typealias Context = MRequestContext
    let store: any MStore
    let limiter: FailedAuthLimiter

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.identity = try await authenticate(request, peer: context.peerAddress)
        return try await next(request, context)
    }

    /// The identity behind the request's credential.
    func authenticate(_ request: Request, peer: String) async throws -> Identity {
        let bearer = Self.bearerToken(request)
        let cookie = request.cookies[WebDefaults.sessionCookie]?.value
        guard bearer != nil || cookie != nil else { throw APIError.unauthorized() }
        if let wait = limiter.retryAfter(peer) { throw FailedAuthLimiter.tooMany(retryAfter: wait) }
        if let bearer, let token = try await lookUpToken(secret: bearer) {
            return Identity(tokenId: token.id, name: token.name, scope: TokenScope(rawValue: token.scope) ?? .read,
                            viaCookie: false)
        }
        if bearer == nil, let cookie, let token = try await store.sessionToken(hash: Secret.hash(cookie)) {
            return Identity(tokenId: token.id, name: token.name, scope: TokenScope(rawValue: token.scope) ?? .read,
                            viaCookie: true)
        }
        limiter.recordFailure(peer)
        throw APIError.unauthorized("the token or session is not valid (revoked, expired or mistyped)")
    }

    /// The unrevoked token for a secret: looked up by its hash, then the
    /// stored and computed digests compared in constant time.
    func lookUpToken(secret: String) async throws -> Token? {
        let digest = Secret.hash(secret)
        guard let token = try await store.activeToken(hash: digest), Secret.constantTimeEquals(token.hash, digest) else {
            return nil
        }
        if token.lastUsedAt.map({ $0 < Timestamp.format(seconds: Int(Date().timeIntervalSince1970) - 60, milliseconds: 0) }) ?? true {
            try? await store.touchToken(id: token.id)
        }
        return token
    }

    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return header.isEmpty ? nil : header }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }
}
