import HTTPTypes
import Hummingbird
import NIOCore

/// The web app (`Public/`, embedded in the binary) at `/`, and the API's
/// OpenAPI document at `/api/v1/openapi.yaml`. The app holds no data, so it
/// needs no token; everything it shows comes from the API.
struct StaticController {
    /// Every file of `Public/` by the name it is served under. SwiftPM embeds
    /// each file as `PackageResources.<name>`, so a new file is listed here too
    /// (`StaticControllerTests` fails for a file of the folder that is not).
    static let files: [String: [UInt8]] = [
        "index.html": PackageResources.index_html,
        "style.css": PackageResources.style_css,
        "app.js": PackageResources.app_js,
        "api.js": PackageResources.api_js,
        "stream.js": PackageResources.stream_js,
        "ansi.js": PackageResources.ansi_js,
        "logview.js": PackageResources.logview_js,
        "dom.js": PackageResources.dom_js,
        "session.js": PackageResources.session_js,
        "runs.js": PackageResources.runs_js,
        "run.js": PackageResources.run_js,
        "search.js": PackageResources.search_js,
        "approvals.js": PackageResources.approvals_js,
        "newrun.js": PackageResources.newrun_js,
        "diffview.js": PackageResources.diffview_js,
        "notifications.js": PackageResources.notifications_js,
        "sw.js": PackageResources.sw_js,
        "manifest.webmanifest": PackageResources.manifest_webmanifest,
        "icon.svg": PackageResources.icon_svg,
        "icon-180.png": PackageResources.icon_180_png,
        "icon-192.png": PackageResources.icon_192_png,
        "icon-512.png": PackageResources.icon_512_png,
    ]

    /// The content type for a file name, by its extension.
    static func contentType(_ name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": return "text/html; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "webmanifest": return "application/manifest+json"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        default: return "application/octet-stream"
        }
    }

    func addRoutes(to router: Router<MRequestContext>, api: RouterGroup<MRequestContext>) {
        router.get("/") { _, _ in Self.file("index.html") }
        router.get(":file") { _, context in
            guard let name = context.parameters.get("file"), Self.files[name] != nil else {
                throw APIError(.notFound, "not_found", "no such file")
            }
            return Self.file(name)
        }
        api.get("openapi.yaml") { _, context in
            _ = try context.require(.read)
            return Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml)))
        }
    }

    private static func file(_ name: String) -> Response {
        Response(status: .ok, headers: [
            // no-cache: the browser (and the service worker) revalidate, so a new mweb's app is used at once.
            .contentType: contentType(name), .cacheControl: "no-cache",
            // The page loads only its own scripts, talks only to its own origin, and is never
            // framed (a page elsewhere cannot overlay it to steal a click on "approve").
            .contentSecurityPolicy: "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'",
            HTTPField.Name("X-Frame-Options")!: "DENY",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ], body: .init(byteBuffer: ByteBuffer(bytes: files[name]!)))
    }
}
