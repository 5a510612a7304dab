/// JSON text written as bytes, for hot paths that never need a `String`
/// (an agent's output on its way into `output` events, `OutputEventData`).
extension JSONValue {
    /// Appends `utf8` (valid UTF-8, which the caller has checked) as a quoted
    /// and escaped JSON string literal: the same text as `writeString`.
    public static func appendString(utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(0x22)
        // Runs of bytes that need no escape are appended whole.
        var runStart = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
            if runStart != index { out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
            out.append(0x5C)
            switch byte {
            case 0x22, 0x5C: out.append(byte)
            case 0x0A: out.append(0x6E) // n
            case 0x0D: out.append(0x72) // r
            case 0x09: out.append(0x74) // t
            default:
                out.append(0x75) // u00XX
                out.append(0x30)
                out.append(0x30)
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0x0F))
            }
            runStart = index + 1
        }
        if runStart != utf8.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
        out.append(0x22)
    }

    /// `appendString(utf8:to:)` for a `String`'s bytes.
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendString(utf8: $0, to: &out) }
    }
}
