import ArgumentParser
import Foundation
import mdb

/// `mcli pair`: a token of its own for a phone, as a link and a QR code.
struct Pair: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a pairing link and QR code for a phone (a new token of its own).",
        discussion: """
            The token travels in the link's #fragment, which browsers never send to a server or a log. \
            It must be used within 15 minutes; then it stays until `mcli token revoke NAME`.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "The address the phone opens (mweb's URL, or its public URL behind a proxy).")
    var url = "http://127.0.0.1:8080"

    @Option(help: "The new token's scope: read, steer or admin.")
    var scope: TokenScope = .steer

    @Option(help: "The new token's name, for `mcli token list` (default: phone-<date>-<time>).")
    var name: String?

    func run() async throws {
        try await runCommand {
            let db = try global.open()
            let (token, secret) = try Pair.createToken(db, name: name ?? Pair.freeName(db, "phone"), scope: scope)
            let link = Pair.link(url: url, secret: secret)
            if global.json {
                Output.line(JSONValue.object([
                    ("link", .string(link)), ("token", .string(secret)), ("id", .int(token.id)),
                    ("name", .string(token.name)), ("scope", .string(token.scope)), ("use_by", .string(token.useBy ?? "")),
                ]).text)
            } else {
                Pair.show(link: link, token: token, url: url)
            }
        }
    }

    /// A pairing token: unusable unless first used within `Defaults.pairingWindowSeconds`.
    static func createToken(_ db: MDatabase, name: String, scope: TokenScope) throws -> (Token, String) {
        try TokenCreate.create(db, name: name, scope: scope, firstUseWithin: Defaults.pairingWindowSeconds)
    }

    /// `prefix-YYYYMMDD-HHMMSS` (UTC), a name that says when the device was paired,
    /// with `-2`, `-3`, … when that second already named a token.
    static func freeName(_ db: MDatabase, _ prefix: String) throws -> String {
        let now = Array(Timestamp.now())  // 2026-12-04T18:18:03.123Z
        let base = prefix + "-" + String(now[0..<4] + now[5..<7] + now[8..<10]) + "-" + String(now[11..<13] + now[14..<16] + now[17..<19])
        let taken = Set(try db.tokens().map(\.name))
        var name = base, suffix = 1
        while taken.contains(name) {
            suffix += 1
            name = "\(base)-\(suffix)"
        }
        return name
    }

    /// `URL/#token=SECRET`: the fragment stays in the browser.
    static func link(url: String, secret: String) -> String {
        (url.hasSuffix("/") ? String(url.dropLast()) : url) + "/#token=" + secret
    }

    /// Prints the link, and its QR code only when a phone can open `url`;
    /// otherwise what to do to reach M from a phone.
    static func show(link: String, token: Token, url: String) {
        let access = PhoneAccess(url: url)
        let minutes = Int(Defaults.pairingWindowSeconds / 60)
        guard access.phoneCanOpen else {
            Output.line("""
                Open M in a browser on this machine within \(minutes) minutes (token '\(token.name)', \(token.scope)):
                  \(link)
                \(url) works only on this machine: no phone can open it.

                \(PhoneAccess.waysOut(port: URLComponents(string: url)?.port ?? 0))
                """)
            return
        }
        Output.line("""
            Pair a phone: scan the code or open the link within \(minutes) minutes (token '\(token.name)', \(token.scope); \
            `mcli token revoke \(token.name)` unpairs it):
              \(link)
            """)
        if let qr = QRCode.render(link) { Output.raw(qr) }
        if access == .insecure { Output.line(PhoneAccess.insecureWarning) }
    }
}
