import Foundation
import Testing
@testable import mdb

@Suite struct JSONValueTests {
    @Test func stringsAreEscapedExactlyAsJSONRequiresAndParseBackUnchanged() throws {
        #expect(JSONValue.string("plain").text == #""plain""#)
        #expect(JSONValue.string("line\n").text == #""line\n""#)
        #expect(JSONValue.string("a \"quote\" and a \\ backslash").text == #""a \"quote\" and a \\ backslash""#)
        #expect(JSONValue.string("\t\r\u{1B}[0m\u{00}\u{7F}").text == "\"\\t\\r\\u001b[0m\\u0000\u{7F}\"")
        let samples = ["", "é", "日本語\n", "emoji 🎉 \"q\"", "\u{1F}\u{10}x\\", String(repeating: "ab\n", count: 1000),
                       "mixed é\u{01}日\\\"🎉\n"]
        for sample in samples {
            let parsed = try JSONValue.parse(JSONValue.object([("text", .string(sample))]).text)
            #expect(parsed["text"]?.stringValue == sample, "\(sample.debugDescription) must survive")
        }
    }

    @Test func bytesAreEscapedToTheSameTextAsAString() {
        let samples = ["", "plain", "line\n", "a \"quote\" and a \\ backslash", "\t\r\u{1B}[0m\u{00}\u{7F}\u{1F}",
                       "é 日本語 🎉", String(repeating: "ab\n", count: 1000), "mixed é\u{01}日\\\"🎉\n"]
        for sample in samples {
            var bytes: [UInt8] = []
            JSONValue.appendString(sample, to: &bytes)
            var text = ""
            JSONValue.writeString(sample, to: &text)
            #expect(String(decoding: bytes, as: UTF8.self) == text, "\(sample.debugDescription)")
        }
    }
}
