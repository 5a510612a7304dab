import HTTPTypes
import Hummingbird

/// The client's address as the failed-login limiter counts it: the peer, or,
/// when the peer is a configured reverse proxy, the address that proxy put in
/// `X-Forwarded-For`. From anyone else the header is ignored: a guesser could
/// otherwise pick a fresh address for every attempt.
enum ClientAddress {
    static func of(_ request: Request, peer: String, trustedProxies: [String]) -> String {
        guard trustedProxies.contains(peer), let header = request.headers[forwardedFor] else { return peer }
        // Right to left: the nearest hop not ours is the client as our proxies saw it.
        let hops = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return hops.last(where: { !trustedProxies.contains($0) }) ?? peer
    }

    private static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
}
