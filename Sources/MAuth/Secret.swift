import Crypto
import Foundation

/// Random secrets (API tokens, session cookies, pairing codes) and the hashes
/// M stores instead of them. A stolen database yields no usable credential.
public enum Secret {
    /// A new random secret: `prefix` followed by 32 bytes from the system's
    /// CSPRNG (`getrandom`), hex-encoded.
    public static func generate(prefix: String = "m_", bytes: Int = 32) -> String {
        var rng = SystemRandomNumberGenerator()
        var out = prefix
        out.reserveCapacity(prefix.count + bytes * 2)
        for _ in 0..<bytes {
            let byte = UInt8.random(in: 0...255, using: &rng)
            out += hexDigits[Int(byte >> 4)]
            out += hexDigits[Int(byte & 0x0f)]
        }
        return out
    }

    /// The hex SHA-256 of a secret: what the `tokens` and `sessions` tables store.
    public static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { hexDigits[Int($0 >> 4)] + hexDigits[Int($0 & 0x0f)] }.joined()
    }

    /// Compares two strings in time that depends only on their lengths, so a
    /// caller learns nothing from how long a wrong guess took.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    private static let hexDigits = (0..<16).map { String($0, radix: 16) }
}
