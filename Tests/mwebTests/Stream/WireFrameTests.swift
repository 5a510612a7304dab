import NIOCore
import Testing
import mdb
@testable import mweb

@Suite struct WireFrameTests {
    /// The frame's bytes are built straight into a buffer; they must be
    /// `Event.wireJSON`'s (what `mcli logs --json` and the events page send).
    @Test func frameBytesAreTheEventsWireJSON() {
        let events = [
            Event(id: 1, runId: 2, seq: 3, ts: "2026-11-25T19:57:58.123Z", type: "output",
                  data: #"{"stream":"stdout","text":"a \"quoted\"\nline\u0001 é ☃"}"#),
            Event(id: Int64.max, runId: 9_007_199_254_740_993, seq: 0, ts: "", type: "run.finished", data: ""),
            Event(id: 10, runId: 10, seq: 100, ts: "odd \"ts\"\\\u{1}", type: "ty\npe", data: "{}"),
            Event(id: -1, runId: 1_000_000, seq: 999_999, ts: "2026-01-01T00:00:00Z", type: "ünïcode ✓", data: "[1,2]"),
        ]
        for event in events {
            let frame = WireFrame(event)
            let parsed = parseServerFrames(Array(frame.wire.readableBytesView))
            #expect(parsed.count == 1 && parsed.first?.opcode == 0x1)
            #expect(parsed.first?.payload == Array(event.wireJSON.utf8), "\(event)")
            #expect(frame.id == event.id && frame.runId == event.runId && frame.seq == event.seq)
        }
    }
}

extension WireFrameTests {
    /// Live frames go out as `wire`, bypassing NIO's encoder: its bytes must be
    /// one final, unmasked text frame carrying exactly the text, whatever the
    /// length form (7-bit, 16-bit, 64-bit).
    @Test func wireBytesAreOneUnmaskedTextFrameCarryingTheText() {
        for length in [0, 1, 125, 126, 200, 65_535, 65_536, 300_000] {
            let event = Event(id: 1, runId: 2, seq: 3, ts: "t", type: "output",
                              data: #"{"text":""# + String(repeating: "x", count: length) + #""}"#)
            let frame = WireFrame(event)
            let bytes = Array(frame.wire.readableBytesView)
            #expect(bytes[0] == 0x81, "FIN and text")
            #expect(bytes[1] & 0x80 == 0, "unmasked")
            let parsed = parseServerFrames(bytes)
            #expect(parsed.count == 1)
            #expect(parsed.first?.opcode == 0x1)
            #expect(parsed.first?.payload == Array(event.wireJSON.utf8), "length \(length)")
        }
    }
}
