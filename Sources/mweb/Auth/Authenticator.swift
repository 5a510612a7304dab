import Foundation
import HTTPTypes
import Hummingbird
import MAuth
import mdb

/// Finds the caller's token from `Authorization: Bearer` or the session cookie
/// and puts its identity in the context; 401 without a valid one. Valid
/// credentials always pass: only failures are counted, and a failure from an
/// address that failed too often is a 429 (behind a proxy every client would
/// otherwise share one address, and a guesser could lock the owner out).
/// Scopes are checked by each route (`require`).
struct Authenticator: RouterMiddleware {
    typealias Context = MRequestContext
    let store: any MStore
    let limiter: FailedAuthLimiter
    let config: AppConfig

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.identity = try await authenticate(request, peer: context.peerAddress)
        return try await next(request, context)
    }

    /// The identity behind the request's credential.
    func authenticate(_ request: Request, peer: String) async throws -> Identity {
        let bearer = try Self.bearerToken(request)
        let cookie = SessionCookie.value(request, config: config)
        guard bearer != nil || cookie != nil else { throw APIError.unauthorized() }
        if let bearer, let token = try await lookUpToken(secret: bearer) {
            return Identity(tokenId: token.id, name: token.name, scope: TokenScope(rawValue: token.scope) ?? .read,
                            viaCookie: false)
        }
        if bearer == nil, let cookie, let token = try await store.sessionToken(hash: Secret.hash(cookie)) {
            return Identity(tokenId: token.id, name: token.name, scope: TokenScope(rawValue: token.scope) ?? .read,
                            viaCookie: true)
        }
        throw failure(request, peer: peer, APIError.unauthorized("the token or session is not valid (revoked, expired or mistyped)"))
    }

    /// Counts a failed credential from the request's client and returns what to
    /// answer: `error`, or 429 once that client failed too often.
    func failure(_ request: Request, peer: String, _ error: APIError) -> APIError {
        let client = ClientAddress.of(request, peer: peer, trustedProxies: config.trustedProxies)
        if let wait = limiter.retryAfter(client) { return FailedAuthLimiter.tooMany(retryAfter: wait) }
        limiter.recordFailure(client)
        return error
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

    /// The token of an `Authorization: Bearer TOKEN` header, nil without the
    /// header; 401 for any other scheme or a bare token, so a credential is
    /// only ever read from where the contract puts it.
    static func bearerToken(_ request: Request) throws -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
              case let token = parts[1].trimmingCharacters(in: .whitespaces), !token.isEmpty else {
            throw APIError.unauthorized("the Authorization header must be `Bearer <token>`")
        }
        return token
    }
}
