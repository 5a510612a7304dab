import Testing
import mdb
@testable import mweb

@Suite struct ClientQueueTests {
    private func frame(_ seq: Int64) -> WireFrame {
        WireFrame(Event(id: seq, runId: 1, seq: seq, ts: "t", type: "output", data: "{}"))
    }

    @Test func nextHandsOverEverythingQueuedInOrder() async {
        let queue = ClientQueue(runId: 1, key: 1, capacity: 100)
        for seq: Int64 in 1...5 { queue.push(frame(seq)) }
        #expect(await queue.next()?.map(\.seq) == [1, 2, 3, 4, 5])
        queue.push(frame(6))
        queue.finish()
        #expect(await queue.next()?.map(\.seq) == [6], "what was queued before the end is still delivered")
        #expect(await queue.next() == nil)
    }

    @Test func aFullQueueEndsMarkedAsOverflowedKeepingWhatItHeld() async {
        let queue = ClientQueue(runId: 1, key: 1, capacity: 3)
        for seq: Int64 in 1...5 { queue.push(frame(seq)) }
        #expect(queue.overflowed)
        #expect(await queue.next()?.map(\.seq) == [1, 2, 3])
        #expect(await queue.next() == nil)
    }

    @Test func aWaitingPumpWakesForAPushAndForAnEnd() async {
        let queue = ClientQueue(runId: 1, key: 1, capacity: 10)
        async let first = queue.next()
        // The push may come before or after `next` starts waiting; either way it is seen.
        queue.push(frame(1))
        #expect(await first?.map(\.seq) == [1])
        async let second = queue.next()
        queue.finish()
        #expect(await second == nil)
        #expect(!queue.overflowed)
    }

    @Test func cancellingAWaitingPumpEndsItsWait() async {
        let queue = ClientQueue(runId: 1, key: 1, capacity: 10)
        let waiting = Task { await queue.next() }
        waiting.cancel()
        #expect(await waiting.value == nil)
    }
}
