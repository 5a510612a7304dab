import Foundation

/// Whether a phone can open M at a URL, and what to tell the person when it
/// cannot. A QR code of `http://127.0.0.1` opens the phone's own loopback, and
/// an iPhone installs the home-screen app and receives pushes only over HTTPS
/// (service workers need a secure context), so both are said plainly.
enum PhoneAccess: Equatable {
    /// HTTPS on a name or address a phone can reach: the QR code works, with the app and notifications.
    case secure
    /// Plain HTTP on an address a phone may reach (a LAN or tailnet address): the page
    /// opens, but an iPhone will not install the app or receive notifications.
    case insecure
    /// Loopback (127.0.0.1, localhost, ::1) or an unspecified bind address (0.0.0.0):
    /// no phone can open this URL.
    case unreachable

    /// Judges `url`; anything that does not parse as http(s) with a host is unreachable.
    init(url: String) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host?.lowercased(), !host.isEmpty, scheme == "http" || scheme == "https" else {
            self = .unreachable
            return
        }
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let loopback = bare == "localhost" || bare.hasSuffix(".localhost") || bare.hasPrefix("127.") || bare == "::1"
        let unspecified = bare == "0.0.0.0" || bare == "::"
        if loopback || unspecified {
            self = .unreachable
        } else {
            self = scheme == "https" ? .secure : .insecure
        }
    }

    /// Whether a QR code of this URL is worth drawing.
    var phoneCanOpen: Bool { self != .unreachable }

    /// The ways to give M a URL a phone can use, for a server listening on `port`.
    static func waysOut(port: Int) -> String {
        let port = port == 0 ? "PORT" : String(port)
        return """
            To use M from a phone, give it an HTTPS address the phone can reach (an iPhone needs
            HTTPS to install the app and get notifications). Three ways, step by step in docs/PHONE.md:
              Tailscale (no certificates):  tailscale serve --bg \(port)
                then restart M with  --public-url https://THIS-MACHINE.TAILNET.ts.net
              Caddy in front, on a domain:  m.example.org { reverse_proxy 127.0.0.1:\(port) }
                then restart M with  --public-url https://m.example.org
              mweb's own TLS:  restart M with  --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem
                                 --public-url https://NAME-IN-THE-CERT:\(port)
            """
    }

    /// What to add when the URL works for a phone's browser but not for the app.
    static let insecureWarning = """
        This URL is plain HTTP: a phone can open it, but an iPhone will not install the app or
        receive notifications, and the token crosses the network unencrypted. See docs/PHONE.md for HTTPS.
        """
}
