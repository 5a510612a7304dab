import Foundation

/// The data of an `output` event, written straight from an agent's bytes
/// without ever losing one (the output path's hot loop: no `String`, no
/// `JSONValue`), and the UTF-8 rules that cut a stream into events.
public enum OutputEventData {
    /// `{stream, text}` for valid UTF-8 without NUL, else `{stream, b64}` with
    /// the exact bytes (a terminal's binary noise must round-trip), as JSON text.
    public static func json(stream: String, bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        bytes.withUnsafeBufferPointer { appendJSON(stream: stream, bytes: $0, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `json(stream:bytes:)` to `out`, written straight
    /// from the bytes (the output hot path: no `String`, no `JSONValue`).
    public static func appendJSON(stream: String, bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + bytes.count + 48)
        out.append(contentsOf: #"{"stream":"#.utf8)
        JSONValue.appendString(stream, to: &out)
        if isText(bytes) {
            out.append(contentsOf: #","text":"#.utf8)
            JSONValue.appendString(utf8: bytes, to: &out)
        } else {
            out.append(contentsOf: #","b64":"#.utf8)
            JSONValue.appendString(Data(bytes).base64EncodedString(), to: &out)
        }
        out.append(0x7D) // }
    }

    /// Whether `bytes` are valid UTF-8 without NUL: stored as `text`, else as `b64`.
    /// (What `String(validating:)` accepts, without building the string.)
    public static func isText(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = bytes.count
        guard let base = bytes.baseAddress else { return true }
        var index = 0
        while index < count {
            // Eight ASCII bytes at a time: no high bit and no zero byte among them.
            if index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                let high: UInt64 = 0x8080_8080_8080_8080
                if word & high == 0 && (word &- 0x0101_0101_0101_0101) & ~word & high == 0 {
                    index += 8
                    continue
                }
            }
            let lead = base[index]
            if lead < 0x80 {
                if lead == 0 { return false }
                index += 1
                continue
            }
            // The second byte's range excludes overlong forms, surrogates and
            // anything above U+10FFFF; later bytes are plain continuations.
            let length: Int, second: ClosedRange<UInt8>
            switch lead {
            case 0xC2...0xDF: (length, second) = (2, 0x80...0xBF)
            case 0xE0: (length, second) = (3, 0xA0...0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (length, second) = (3, 0x80...0xBF)
            case 0xED: (length, second) = (3, 0x80...0x9F)
            case 0xF0: (length, second) = (4, 0x90...0xBF)
            case 0xF1...0xF3: (length, second) = (4, 0x80...0xBF)
            case 0xF4: (length, second) = (4, 0x80...0x8F)
            default: return false
            }
            guard index + length <= count, second.contains(base[index + 1]) else { return false }
            for offset in 2..<max(2, length) where base[index + offset] & 0xC0 != 0x80 { return false }
            index += length
        }
        return true
    }

    /// The notice stored when a run's output reaches `capBytes` (exactly that much is kept).
    /// A run with `limits.output_bytes` is then stopped (its end says so); without, it keeps going.
    public static func capNotice(capBytes: Int64) -> NewEvent {
        NewEvent(EventType.notice, .object([
            ("level", "warning"),
            ("text", .string("output cap of \(capBytes) bytes reached: further output of this run is discarded")),
        ]))
    }

    /// How many bytes at the end of `bytes` start a UTF-8 character that is not
    /// complete yet (0–3). Those wait for the next read, so a character that
    /// straddles two reads is never cut into two events.
    public static func incompleteTail<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> Int where Bytes.Element == UInt8, Bytes.Index == Int {
        let n = bytes.count
        var back = 1
        while back <= min(3, n) {
            let byte = bytes[bytes.endIndex - back]
            if byte & 0xC0 != 0x80 { // a lead byte (or ASCII)
                let needed: Int
                switch byte {
                case 0xC2...0xDF: needed = 2
                case 0xE0...0xEF: needed = 3
                case 0xF0...0xF4: needed = 4
                default: needed = 1 // ASCII or invalid: nothing to wait for
                }
                return needed > back ? back : 0
            }
            back += 1
        }
        return 0
    }
}
