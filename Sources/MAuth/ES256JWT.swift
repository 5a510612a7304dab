import Crypto
import Foundation

/// ES256 JSON Web Tokens (RFC 7515 compact form, signature as raw r‖s), as
/// VAPID (RFC 8292) and APNs token authentication use them.
public enum ES256JWT {
    /// `base64url(header).base64url(claims).base64url(signature)`; the header and claims are JSON text.
    public static func sign(header: String, claims: String, key: P256.Signing.PrivateKey) throws -> String {
        let input = Base64URL.encode(Data(header.utf8)) + "." + Base64URL.encode(Data(claims.utf8))
        let signature = try key.signature(for: Data(input.utf8))
        return input + "." + Base64URL.encode(signature.rawRepresentation)
    }
}

/// The server's VAPID key pair, made once (`mcli notify add webpush`).
public enum VAPIDKeyMaker {
    /// A new P-256 pair: the private scalar and the uncompressed public point, both base64url.
    public static func generate() -> (privateKey: String, publicKey: String) {
        let key = P256.Signing.PrivateKey()
        return (Base64URL.encode(key.rawRepresentation), Base64URL.encode(key.publicKey.x963Representation))
    }
}
