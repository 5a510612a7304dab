import ArgumentParser
import Foundation
import mdb

/// `mcli pair`: a fresh token for a phone, as a link and a QR code.
struct Pair: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a pairing link and QR code for a phone (a new token).",
        discussion: "The token travels in the link's #fragment, which browsers never send to a server or a log.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "The address the phone opens (mweb's URL, or its public URL behind a proxy).")
    var url = "http://127.0.0.1:8080"

    @Option(help: "The new token's scope.")
    var scope: TokenScope = .steer

    @Option(help: "The new token's name (default: phone-<time>).")
    var name: String?

    func run() async throws {
        try await runCommand {
            let db = try global.open()
            let tokenName = name ?? "phone-\(Timestamp.now().prefix(19).replacingOccurrences(of: ":", with: ""))"
            let (token, secret) = try TokenCreate.create(db, name: tokenName, scope: scope)
            let link = Pair.link(url: url, secret: secret)
            if global.json {
                Output.line(JSONValue.object([("link", .string(link)), ("token", .string(secret)),
                                              ("id", .int(token.id)), ("name", .string(token.name))]).text)
            } else {
                Pair.show(link: link, tokenName: token.name)
            }
        }
    }

    /// `URL/#token=SECRET`: the fragment stays in the browser.
    static func link(url: String, secret: String) -> String {
        (url.hasSuffix("/") ? String(url.dropLast()) : url) + "/#token=" + secret
    }

    /// Prints the link and its QR code.
    static func show(link: String, tokenName: String) {
        Output.line("pairing link (token '\(tokenName)', shown once):\n  \(link)")
        if let qr = QRCode.render(link) { Output.raw(qr) }
    }
}
