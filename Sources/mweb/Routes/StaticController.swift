import HTTPTypes
import Hummingbird
import NIOCore

/// The web client (`Public/`, embedded in the binary) at `/`, and the API's
/// OpenAPI document at `/api/v1/openapi.yaml`. The page holds no data, so it
/// needs no token; everything it shows comes from the API.
struct StaticController {
    private static let files: [String: (type: String, bytes: [UInt8])] = [
        "index.html": ("text/html; charset=utf-8", PackageResources.index_html),
        "app.js": ("text/javascript; charset=utf-8", PackageResources.app_js),
        "style.css": ("text/css; charset=utf-8", PackageResources.style_css),
    ]

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
        let file = files[name]!
        return Response(status: .ok, headers: [
            .contentType: file.type, .cacheControl: "no-cache",
            // The page loads only its own scripts, talks only to its own origin, and is never
            // framed (a page elsewhere cannot overlay it to steal a click on "approve").
            .contentSecurityPolicy: "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'",
            HTTPField.Name("X-Frame-Options")!: "DENY",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ], body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
