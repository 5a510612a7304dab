import Foundation
import Testing
import mdb
@testable import mexec

@Suite struct WriterWireTests {
    private let batch = OutputBatch(runId: 42, workerId: "host:1:abc", number: 7, events: [
        NewEvent(EventType.output, ["stream": "stdout", "text": "héllo\n"]),
        NewEvent(EventType.notice, ["level": "warning", "text": "cap"]),
    ], bytes: OutputCounts(stdout: 7, stderr: 1 << 40, pty: 3), capsOutput: true)

    @Test func aBatchSurvivesTheRoundTripWithItsJSONAsWritten() throws {
        for replyNow in [false, true] {
            let message = WriterWire.encode(batch, replyNow: replyNow)
            #expect(WriterWire.announcedLength(message[...]) == message.count - 4)
            let decoded = try WriterWire.decodeBatch(message[4...])
            #expect(decoded.batch == batch)
            #expect(decoded.replyNow == replyNow)
            #expect(!decoded.hello)
        }
    }

    @Test func aHelloNamesTheRunAndCarriesNoOutput() throws {
        let message = WriterWire.encodeHello(runId: 42, workerId: "host:1:abc")
        let decoded = try WriterWire.decodeBatch(message[4...])
        #expect(decoded.hello)
        #expect(!decoded.replyNow)
        #expect(decoded.batch == OutputBatch(runId: 42, workerId: "host:1:abc", number: 0, events: []))
    }

    @Test func everyReplyKindSurvivesTheRoundTrip() throws {
        for reply: WriterWire.Reply in [.stored, .refused("lease lost"), .failed("disk full"), .notAllowed("not yours"), .requestsWaiting,
                                         .drain, .streamsEnded, .outputCapped] {
            let message = WriterWire.encode(reply: reply, number: 9)
            let decoded = try WriterWire.decodeReply(message[4...])
            #expect(decoded.number == 9)
            #expect(decoded.reply == reply)
        }
    }

    @Test func aCutOrPaddedMessageIsRefusedNotMisread() {
        let message = WriterWire.encode(batch, replyNow: false)
        #expect(throws: WriterWire.MalformedMessage.self) { try WriterWire.decodeBatch(message[4..<(message.count - 1)]) }
        #expect(throws: WriterWire.MalformedMessage.self) { try WriterWire.decodeBatch((message + [0])[4...]) }
        #expect(throws: WriterWire.MalformedMessage.self) { try WriterWire.decodeReply([1, 2, 3][...]) }
        #expect(WriterWire.announcedLength([1, 0, 0][...]) == nil, "three bytes are not a length yet")
    }

    @Test func outputWrittenStraightIntoAMessageReadsBackAsItsEvent() throws {
        let chunks: [(String, [UInt8])] = [("stdout", Array("héllo \"x\"\n".utf8)), ("stderr", [0x00, 0xFF]), ("stdout", [])]
        var message = BatchMessage(runId: 42, workerId: "host:1:abc", number: 7, replyNow: true)
        for (stream, bytes) in chunks { bytes.withUnsafeBufferPointer { message.appendOutput(stream: stream, bytes: $0) } }
        message.append(NewEvent(EventType.notice, ["level": "warning", "text": "cap"]))
        let framed = message.framed()
        #expect(WriterWire.announcedLength(framed[...]) == framed.count - 4)
        let decoded = try WriterWire.decodeBatch(framed[4...])
        #expect(decoded.replyNow)
        #expect(decoded.batch == OutputBatch(runId: 42, workerId: "host:1:abc", number: 7, events:
            chunks.map { NewEvent(EventType.output, OutputEncoding.data(stream: $0.0, bytes: $0.1)) }
            + [NewEvent(EventType.notice, ["level": "warning", "text": "cap"])], bytes: OutputCounts(stdout: 11, stderr: 2)))
    }
}
