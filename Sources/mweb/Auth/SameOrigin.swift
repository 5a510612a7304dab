import HTTPTypes
import Hummingbird

/// Whether a browser request comes from M's own page. Cookies are not bound
/// to a port or to a sibling host behind the same proxy, so a page an agent
/// serves on `127.0.0.1:9999` gets the person's cookie sent along; only the
/// browser's `Origin` and `Sec-Fetch-Site` headers tell the two apart.
enum SameOrigin {
    /// True when `origin` is this server as the browser addressed it (the
    /// request's Host, over http or https; only https when mweb serves TLS
    /// itself, as nothing on its port speaks plain http) or the configured public URL.
    static func allows(origin: String, request: Request, config: AppConfig) -> Bool {
        let host = request.head.authority ?? ""
        let schemes = config.tls == nil ? ["http", "https"] : ["https"]
        let allowed = schemes.map { "\($0)://\(host)" } + [config.publicURL].compactMap { $0 }
        return allowed.contains { ($0.hasSuffix("/") ? String($0.dropLast()) : $0) == origin }
    }

    /// Refuses (403) a browser request that is not from M's own page: a
    /// `Sec-Fetch-Site` other than `same-origin`, a foreign `Origin`, or neither
    /// header (every browser sends `Origin` on a POST).
    static func check(_ request: Request, config: AppConfig) throws {
        let site = request.headers[secFetchSite]
        let origin = request.headers[.origin]
        if let site, site.lowercased() != "same-origin" {
            throw refused("Sec-Fetch-Site is \(site)")
        }
        if let origin, !allows(origin: origin, request: request, config: config) {
            throw refused("the page is \(origin)")
        }
        if site == nil && origin == nil {
            throw refused("neither Origin nor Sec-Fetch-Site says where it comes from")
        }
    }

    private static func refused(_ why: String) -> APIError {
        APIError(.forbidden, "cross_site",
                 "a request with the session cookie must come from M's own page (\(why)); scripts use `Authorization: Bearer`")
    }

    private static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}

/// On `/api/v1`: a request that rides on the session cookie (no
/// `Authorization` header) and would change something must come from M's own
/// page, and a body must be JSON (a cross-site form or `text/plain` POST needs
/// no CORS preflight; JSON does, and mweb answers none). Bearer clients are
/// not browsers and are not affected; reads are not affected.
struct CrossSiteGuard: RouterMiddleware {
    typealias Context = MRequestContext
    let config: AppConfig

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.changesState(request.method), request.headers[.authorization] == nil,
           SessionCookie.value(request, config: config) != nil {
            try SameOrigin.check(request, config: config)
            if Self.hasBody(request), !Self.isJSON(request.headers[.contentType]) {
                throw APIError(.unsupportedMediaType, "unsupported_media_type",
                               "send the body as JSON with Content-Type: application/json")
            }
        }
        return try await next(request, context)
    }

    static func changesState(_ method: HTTPRequest.Method) -> Bool {
        ![.get, .head, .options].contains(method)
    }

    /// A bodyless POST (cancel, a diff request) carries nothing to misread; the origin check still applies.
    static func hasBody(_ request: Request) -> Bool {
        if let length = request.headers[.contentLength] { return length != "0" }
        return request.headers[.transferEncoding] != nil
    }

    static func isJSON(_ contentType: String?) -> Bool {
        guard let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) else { return false }
        return type.lowercased() == "application/json"
    }
}
