import Foundation
import Testing
import mdb
@testable import mexec

@Suite struct WriterMessageTests {
    @Test func everyMessageAndReplySurvivesTheRoundTripInOneBuffer() throws {
        let messages: [WriterMessage] = [
            .hello(version: WriterProtocol.version, runId: 42, workerId: "host:1:abc"),
            .delegate(streams: ["stdout", "stderr"], consumed: [0, 1 << 40], capBytes: 1 << 30),
            .events(batch: 7, events: [WireEvent(NewEvent(EventType.notice, ["level": "warning", "text": "héllo \"x\"\n"]))]),
        ]
        var buffer = messages.flatMap { WriterProtocol.frame($0) }
        #expect(try WriterProtocol.unframe(WriterMessage.self, from: &buffer) == messages)
        #expect(buffer.isEmpty)
        let replies: [WriterReply] = [.requestsWaiting, .notAllowed("not yours"), .refused("lease lost"), .stored(batch: 9),
                                      .failed("disk full"), .drain, .streamsEnded, .outputCapped]
        var replyBuffer = replies.flatMap { WriterProtocol.frame($0) }
        #expect(try WriterProtocol.unframe(WriterReply.self, from: &replyBuffer) == replies)
    }

    @Test func aMessageCutShortWaitsForTheRestAndGarbageIsRefused() throws {
        let framed = WriterProtocol.frame(WriterMessage.hello(version: WriterProtocol.version, runId: 1, workerId: "w"))
        var buffer = Array(framed.dropLast())
        #expect(try WriterProtocol.unframe(WriterMessage.self, from: &buffer).isEmpty)
        #expect(buffer.count == framed.count - 1, "the partial message is kept")
        buffer.append(framed.last!)
        #expect(try WriterProtocol.unframe(WriterMessage.self, from: &buffer).count == 1)
        var garbage: [UInt8] = [3, 0, 0, 0, 1, 2, 3]
        #expect(throws: WriterProtocol.MalformedMessage.self) { try WriterProtocol.unframe(WriterMessage.self, from: &garbage) }
        var huge: [UInt8] = [0, 0, 0, 0x7F]
        #expect(throws: WriterProtocol.MalformedMessage.self) { try WriterProtocol.unframe(WriterMessage.self, from: &huge, maxBytes: 1024) }
    }
}
