import Foundation
import Testing
import mdb
@testable import mexec

@Suite struct OutputEncodingTests {
    @Test func anIncompleteCharacterAtTheEndWaitsForTheNextRead() {
        #expect(OutputEncoding.incompleteTail(Array("abc".utf8)) == 0)
        #expect(OutputEncoding.incompleteTail(Array("é".utf8)) == 0)
        #expect(OutputEncoding.incompleteTail([0x61, 0xC3]) == 1)
        #expect(OutputEncoding.incompleteTail([0x61, 0xE2, 0x82]) == 2)      // first two bytes of €
        #expect(OutputEncoding.incompleteTail([0xF0, 0x9F, 0x98]) == 3)      // first three of an emoji
        #expect(OutputEncoding.incompleteTail([0x61, 0xFF]) == 0)            // invalid: nothing to wait for
    }

    @Test func textStaysTextAndAnythingElseKeepsItsExactBytes() {
        #expect(OutputEncoding.data(stream: "stdout", bytes: Array("héllo\n".utf8)).text == #"{"stream":"stdout","text":"héllo\n"}"#)
        let raw: [UInt8] = [0x00, 0xFF, 0x41]
        let encoded = OutputEncoding.data(stream: "stderr", bytes: raw)
        #expect(encoded["text"] == nil)
        #expect(encoded["b64"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map(Array.init) == raw)
    }
}

@Suite struct OutputEncodingJSONTests {
    @Test func theDirectJSONIsTheSameTextAsTheDataValue() {
        let samples: [[UInt8]] = [
            Array("héllo\n".utf8), Array("quote \" backslash \\ tab \t ctrl \u{1}\n".utf8),
            [0x00, 0xFF, 0x41], [], Array("emoji 😀 and € \r\n".utf8),
        ]
        for bytes in samples {
            for stream in ["stdout", "stderr", "pty"] {
                #expect(OutputEncoding.json(stream: stream, bytes: bytes) == OutputEncoding.data(stream: stream, bytes: bytes).text)
            }
        }
    }
}
