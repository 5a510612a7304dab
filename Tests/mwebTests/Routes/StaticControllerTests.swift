import Foundation
import HTTPTypes
import Testing
@testable import mweb

@Suite struct StaticControllerTests {
    /// `Sources/mweb/Public`, found from this file's place in the tree.
    static let publicFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../Sources/mweb/Public").standardizedFileURL

    @Test func everyFileOfThePublicFolderIsServedWithItsContentType() async throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.publicFolder.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(names.count >= 10, "found \(names) in \(Self.publicFolder.path)")
        #expect(Set(names) == Set(StaticController.files.keys), "Public/ and StaticController.files differ")
        let expected = ["html": "text/html", "js": "text/javascript", "css": "text/css", "webmanifest": "application/manifest+json",
                        "png": "image/png", "svg": "image/svg+xml"]
        try await LiveServer.with { server in
            for name in names {
                let result = try await http(server.port, .get, "/\(name)")
                #expect(result.status == 200, "\(name) answered \(result.status)")
                let type = try #require(expected[String(name.split(separator: ".").last!)], "no expected type for \(name)")
                #expect(result.headers[.contentType]?.hasPrefix(type) == true, "\(name) is \(result.headers[.contentType] ?? "untyped")")
                #expect(result.headers[.contentSecurityPolicy] != nil && result.headers[.cacheControl] == "no-cache")
                let bytes = try Data(contentsOf: Self.publicFolder.appendingPathComponent(name))
                if let text = String(data: bytes, encoding: .utf8), type.hasPrefix("text") || type.hasSuffix("json") {
                    #expect(result.text == text, "\(name) is not served as it is in Public/")
                }
            }
            #expect(try await http(server.port, .get, "/").headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(try await http(server.port, .get, "/nope.js").status == 404)
        }
    }
}
