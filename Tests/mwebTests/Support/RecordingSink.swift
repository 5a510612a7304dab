import MTestSupport
import mdb
import NIOCore
import NIOPosix
@testable import mweb

/// A client's sink that records what it is given and writes nothing: the
/// test decides when the frames count as written (`completeWrites`), so it
/// can play a client that keeps up and one that does not.
final class RecordingSink: LiveSink {
    let eventLoop: any EventLoop
    private let state = LockedBox<(seqs: [Int64], pending: [@Sendable (Result<Void, any Error>) -> Void], writes: Int)>(([], [], 0))

    init(eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()) {
        self.eventLoop = eventLoop
    }

    func write(_ frames: ArraySlice<WireFrame>, written: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        state.mutate { $0.seqs += frames.map(\.seq); $0.pending.append(written); $0.writes += 1 }
    }

    /// The seqs given so far, in order.
    var seqs: [Int64] { state.get().seqs }
    /// How many `write` calls (one per client per round).
    var writes: Int { state.get().writes }

    /// Reports every write so far as done.
    func completeWrites() {
        for written in state.mutate({ s -> [@Sendable (Result<Void, any Error>) -> Void] in defer { s.pending = [] }; return s.pending }) {
            written(.success(()))
        }
    }
}

/// Wire frames for `seqs` of one run (id = seq, or `idOffset` + seq).
func wireFrames(_ seqs: ClosedRange<Int64>, runId: Int64 = 1, idOffset: Int64 = 0) -> [WireFrame] {
    seqs.map { WireFrame(Event(id: idOffset + $0, runId: runId, seq: $0, ts: "t", type: "output", data: "{}")) }
}
