import MTestSupport
import Testing
import mdb
@testable import mweb

@Suite struct ClientQueueTests {
    @Test func framesPublishedDuringTheReplayAreWrittenOnceLiveWithoutWhatTheReplaySent() async {
        let queue = ClientQueue(runId: 1, key: 1, capacity: 100)
        let sink = RecordingSink()
        #expect(queue.offer(wireFrames(1...3)[...]) == nil, "held while replaying")
        #expect(queue.goLive(after: 2, sink: sink))
        #expect(await eventuallyAsync(timeout: 10) { sink.seqs == [3] }, "what the replay did not send, on the event loop")
        // The tailer may publish again what the replay read ahead of it.
        let write = queue.offer(wireFrames(2...5)[...])
        #expect(write?.frames.map(\.seq) == [4, 5])
        write?.perform()
        #expect(sink.seqs == [3, 4, 5])
        #expect(queue.cursor == 5)
        #expect(queue.offer(wireFrames(4...5)[...]) == nil, "nothing twice")
    }

    @Test func aLiveClientWhoseWritesDoNotCompleteIsEndedAsOverflowed() async {
        let queue = ClientQueue(runId: 1, key: 1, capacity: 3)
        let sink = RecordingSink()
        queue.goLive(after: 0, sink: sink)
        queue.offer(wireFrames(1...2)[...])?.perform()
        sink.completeWrites()
        queue.offer(wireFrames(3...5)[...])?.perform()
        #expect(!queue.overflowed, "written frames free their room")
        #expect(queue.offer(wireFrames(6...6)[...]) == nil)
        #expect(queue.overflowed)
        #expect(queue.cursor == 5, "the client resumes after the last frame it was given")
        await queue.ended()
        #expect(queue.offer(wireFrames(7...7)[...]) == nil, "nothing after the end")
        #expect(sink.seqs == [1, 2, 3, 4, 5])
    }

    @Test func aClientThatFallsBehindWhileReplayingGetsWhatWasHeldThenEnds() async {
        let queue = ClientQueue(runId: 1, key: 1, capacity: 3)
        let sink = RecordingSink()
        _ = queue.offer(wireFrames(1...2)[...])
        _ = queue.offer(wireFrames(3...5)[...])
        #expect(queue.overflowed)
        #expect(!queue.goLive(after: 1, sink: sink))
        #expect(await eventuallyAsync(timeout: 10) { sink.seqs == [2, 3] })
        #expect(queue.cursor == 3)
    }

    @Test func theAllRunsStreamOrdersByEventId() async {
        let queue = ClientQueue(runId: nil, key: 1, capacity: 100)
        let sink = RecordingSink()
        queue.goLive(after: 10, sink: sink)
        // seq 1...3 of run 2 carry ids 10...12: only ids after the cursor go out.
        let write = queue.offer(wireFrames(1...3, runId: 2, idOffset: 9)[...])
        #expect(write?.frames.map(\.id) == [11, 12])
        #expect(queue.cursor == 12)
    }

    @Test func theEndWakesTheWaitingPumpOnFinishAndOnCancel() async {
        let queue = ClientQueue(runId: 1, key: 1, capacity: 10)
        async let ended: Void = queue.ended()
        queue.finish()
        await ended
        #expect(!queue.overflowed)
        #expect(queue.offer(wireFrames(1...1)[...]) == nil)

        let other = ClientQueue(runId: 1, key: 2, capacity: 10)
        let waiting = Task { await other.ended() }
        waiting.cancel()
        await waiting.value
    }
}

@Suite struct FanOutPublishTests {
    @Test func aRoundReachesEachClientOnceWithItsRunsFramesInOrder() async {
        let fanOut = FanOut(clientQueueFrames: 100)
        let loop = RecordingSink().eventLoop
        let one = fanOut.subscribe(runId: 1), two = fanOut.subscribe(runId: 2), all = fanOut.subscribe(runId: nil)
        let sinks = (0..<3).map { _ in RecordingSink(eventLoop: loop) }
        for (queue, sink) in zip([one, two, all], sinks) { queue.goLive(after: 0, sink: sink) }
        // One round with both runs interleaved: ids 1...6.
        let round = [(1, 1), (2, 1), (1, 2), (1, 3), (2, 2), (3, 1)].enumerated().map { i, e in
            WireFrame(Event(id: Int64(i + 1), runId: Int64(e.0), seq: Int64(e.1), ts: "t", type: "output", data: "{}"))
        }
        fanOut.publish(round)
        #expect(await eventuallyAsync(timeout: 10) { sinks.allSatisfy { $0.writes == 1 } }, "one write per client per round")
        #expect(sinks[0].seqs == [1, 2, 3])
        #expect(sinks[1].seqs == [1, 2])
        #expect(sinks[2].seqs == [1, 1, 2, 3, 2, 1], "all runs: every frame, in id order")
        fanOut.unsubscribe(two)
        fanOut.publish(wireFrames(3...3, runId: 2, idOffset: 10))
        fanOut.publish(wireFrames(4...4, runId: 1, idOffset: 10))
        #expect(await eventuallyAsync(timeout: 10) { sinks[0].seqs == [1, 2, 3, 4] })
        #expect(sinks[1].seqs == [1, 2], "nothing after unsubscribing")
    }
}
