import Crypto
import Foundation

/// Encrypts a Web Push message for one subscription (RFC 8291: an ephemeral
/// ECDH key agreement with the browser's P-256 key and its auth secret, then
/// RFC 8188's `aes128gcm` content coding as a single record).
enum WebPushEncryption {
    /// The record size written in the header (the whole message is one record, well below it).
    static let recordSize: UInt32 = 4096

    /// The request body: salt ‖ record size ‖ key id length ‖ the sender's public key ‖ ciphertext and tag.
    static func encrypt(_ plaintext: Data, p256dh: Data, auth: Data,
                        senderKey: P256.KeyAgreement.PrivateKey = P256.KeyAgreement.PrivateKey(),
                        salt: Data = randomBytes(16)) throws -> Data {
        let receiverKey = try P256.KeyAgreement.PublicKey(x963Representation: p256dh)
        let senderPublic = senderKey.publicKey.x963Representation
        let shared = try senderKey.sharedSecretFromKeyAgreement(with: receiverKey)
        // IKM = HKDF(salt: auth, ikm: ecdh_secret, info: "WebPush: info" ‖ 0 ‖ ua_public ‖ as_public, 32)
        let keyInfo = Data("WebPush: info".utf8) + [0] + p256dh + senderPublic
        let ikm = shared.withUnsafeBytes { secret in
            HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(secret)), salt: auth, info: keyInfo, outputByteCount: 32)
        }
        let prk = HKDF<SHA256>.extract(inputKeyMaterial: ikm, salt: salt)
        let cek = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: aes128gcm".utf8) + [0], outputByteCount: 16)
        let nonce = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: nonce".utf8) + [0], outputByteCount: 12)
        // The last (and only) record ends with the delimiter 0x02 and no padding.
        let sealed = try AES.GCM.seal(plaintext + [2], using: cek,
                                      nonce: nonce.withUnsafeBytes { try AES.GCM.Nonce(data: Data($0)) })
        var body = salt
        withUnsafeBytes(of: recordSize.bigEndian) { body.append(contentsOf: $0) }
        body.append(UInt8(senderPublic.count))
        body.append(senderPublic)
        body.append(sealed.ciphertext)
        body.append(sealed.tag)
        return body
    }

    /// `count` bytes from the system's CSPRNG.
    static func randomBytes(_ count: Int) -> Data {
        var rng = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }
}
