import Foundation
import mdb

/// Turns raw output bytes into `output` event data without ever losing a byte.
enum OutputEncoding {
    /// `{stream, text}` for valid UTF-8 without NUL, else `{stream, b64}` with
    /// the exact bytes (a terminal's binary noise must round-trip).
    static func data(stream: String, bytes: [UInt8]) -> JSONValue {
        if !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) {
            return .object([("stream", .string(stream)), ("text", .string(text))])
        }
        return .object([("stream", .string(stream)), ("b64", .string(Data(bytes).base64EncodedString()))])
    }

    /// `data(stream:bytes:)` as JSON text, written directly (the output hot
    /// path: no intermediate `JSONValue` per chunk). Same text as `data(…).text`.
    static func json(stream: String, bytes: [UInt8]) -> String {
        var out = "{\"stream\":"
        out.reserveCapacity(bytes.count + 40)
        JSONValue.writeString(stream, to: &out)
        if !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) {
            out += ",\"text\":"
            JSONValue.writeString(text, to: &out)
        } else {
            out += ",\"b64\":"
            JSONValue.writeString(Data(bytes).base64EncodedString(), to: &out)
        }
        out += "}"
        return out
    }

    /// How many bytes at the end of `bytes` start a UTF-8 character that is not
    /// complete yet (0–3). Those wait for the next read, so a character that
    /// straddles two reads is never cut into two events.
    static func incompleteTail(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var back = 1
        while back <= min(3, n) {
            let byte = bytes[n - back]
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
