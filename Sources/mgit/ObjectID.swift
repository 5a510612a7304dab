/// A git object id (SHA-1 or SHA-256 hex), checked so it can be passed to git safely.
public struct ObjectID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The lowercase hex digits.
    public let hex: String

    /// Nil unless `hex` is 40 or 64 lowercase hex digits.
    public init?(_ hex: String) {
        guard hex.count == 40 || hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        self.hex = hex
    }

    public var description: String { hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = ObjectID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an object id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
