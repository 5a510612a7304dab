import Foundation
import Testing
@testable import mdb

/// The output event data as the contract states it, built through `JSONValue`: what
/// `OutputEventData.json` writes straight from the bytes must be the same text.
private func reference(stream: String, bytes: [UInt8]) -> JSONValue {
    if !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) {
        return .object([("stream", .string(stream)), ("text", .string(text))])
    }
    return .object([("stream", .string(stream)), ("b64", .string(Data(bytes).base64EncodedString()))])
}

@Suite struct OutputEventDataTests {
    @Test func anIncompleteCharacterAtTheEndWaitsForTheNextRead() {
        #expect(OutputEventData.incompleteTail(Array("abc".utf8)) == 0)
        #expect(OutputEventData.incompleteTail(Array("é".utf8)) == 0)
        #expect(OutputEventData.incompleteTail([0x61, 0xC3]) == 1)
        #expect(OutputEventData.incompleteTail([0x61, 0xE2, 0x82]) == 2)      // first two bytes of €
        #expect(OutputEventData.incompleteTail([0xF0, 0x9F, 0x98]) == 3)      // first three of an emoji
        #expect(OutputEventData.incompleteTail([0x61, 0xFF]) == 0)            // invalid: nothing to wait for
    }

    @Test func textStaysTextAndAnythingElseKeepsItsExactBytes() {
        #expect(OutputEventData.json(stream: "stdout", bytes: Array("héllo\n".utf8)) == #"{"stream":"stdout","text":"héllo\n"}"#)
        let raw: [UInt8] = [0x00, 0xFF, 0x41]
        let encoded = try! JSONValue.parse(OutputEventData.json(stream: "stderr", bytes: raw))
        #expect(encoded["text"] == nil)
        #expect(encoded["b64"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map(Array.init) == raw)
    }
}

@Suite struct OutputEventDataJSONTests {
    @Test func theDirectJSONIsTheSameTextAsTheDataValue() {
        let samples: [[UInt8]] = [
            Array("héllo\n".utf8), Array("quote \" backslash \\ tab \t ctrl \u{1}\n".utf8),
            [0x00, 0xFF, 0x41], [], Array("emoji 😀 and € \r\n".utf8),
        ]
        for bytes in samples {
            for stream in ["stdout", "stderr", "pty"] {
                #expect(OutputEventData.json(stream: stream, bytes: bytes) == reference(stream: stream, bytes: bytes).text)
            }
        }
    }

    @Test func textIsWhatStringValidationAcceptsWithoutNUL() {
        // Edge cases of UTF-8: overlong forms, surrogates, the last code point, cut sequences.
        var samples: [[UInt8]] = [
            [], Array("ascii only, long enough to take the eight-byte path\n".utf8), Array("héllo € 😀 日本".utf8),
            [0xC0, 0x80], [0xC1, 0xBF], [0xC2, 0x80], [0xE0, 0x80, 0x80], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF],
            [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80],
            [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80],
            [0x41, 0xE2, 0x82], [0xE2, 0x41, 0xAC], Array("12345678\u{0}1234567".utf8), [0x61, 0x00],
        ]
        // And random mixes of ASCII, lead and continuation bytes, long enough to cross the eight-byte steps.
        var generator = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [[0x41], [0x0A], [0x00], [0x80], [0xBF], [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80],
                                 [0xED, 0xA0], [0xF4, 0x90], [0xE0], Array("plain text".utf8)]
        for _ in 0..<5_000 {
            samples.append((0..<Int.random(in: 0...12, using: &generator)).flatMap { _ in pieces.randomElement(using: &generator)! })
        }
        for bytes in samples {
            let expected = !bytes.contains(0) && String(validating: bytes, as: UTF8.self) != nil
            #expect(bytes.withUnsafeBufferPointer(OutputEventData.isText) == expected, "\(bytes)")
        }
    }
}
