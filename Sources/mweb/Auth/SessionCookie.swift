import HTTPTypes
import Hummingbird

/// The browser session cookie: its name and whether it is Secure follow from
/// how the browser reached mweb (HTTPS: `__Host-m_session`, Secure; plain HTTP
/// on a loopback address: `m_session`). A request is read with the same rule,
/// so over HTTPS a cookie without the prefix (which any sibling host could
/// have set) is never taken for a session.
enum SessionCookie {
    /// True when the browser reached mweb over HTTPS: its own TLS, a configured
    /// https public URL, or a proxy that says so with `X-Forwarded-Proto`.
    static func isSecure(_ request: Request, config: AppConfig) -> Bool {
        config.tls != nil
            || (config.publicURL?.hasPrefix("https://") ?? false)
            || request.headers[forwardedProto]?.lowercased() == "https"
    }

    /// The cookie's name for this request.
    static func name(_ request: Request, config: AppConfig) -> String {
        isSecure(request, config: config) ? WebDefaults.secureSessionCookie : WebDefaults.sessionCookie
    }

    /// The session secret the request carries, if any.
    static func value(_ request: Request, config: AppConfig) -> String? {
        request.cookies[name(request, config: config)]?.value
    }

    /// The cookie that sets (or, with an empty value and age 0, clears) the session.
    static func make(_ value: String, maxAge: Int, for request: Request, config: AppConfig) -> Cookie {
        // No Domain: host-only, as `__Host-` requires.
        Cookie(name: name(request, config: config), value: value, maxAge: maxAge, path: "/",
               secure: isSecure(request, config: config), httpOnly: true, sameSite: .strict)
    }

    private static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!
}
