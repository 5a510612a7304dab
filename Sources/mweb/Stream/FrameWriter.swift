import NIOCore
import Synchronization

/// Sends a client's replayed frames in batches, straight into its channel
/// (`ChannelSink`): one event-loop hop and one flush per batch, and at most
/// one batch in flight while the caller prepares the next.
///
/// Why not `WebSocketOutboundWriter.write` per frame: each call hops to the
/// WebSocket handler's actor and to the event loop and flushes alone, so a
/// replay paid a `writev` per event; and it returns before the event loop has
/// taken the frame, so a pump faster than its event loop queued frames there
/// without bound (mweb's RSS grew with the run's length). Here
/// `write` waits until the previous batch is in the kernel: memory is two
/// batches per client whatever the run's size, and a slow reader slows the
/// replay instead of growing mweb.
///
/// The frames join the WebSocket handler's own (ping, pong, close) below the
/// handler and below the encoder, as wire bytes; mweb negotiates no WebSocket
/// extension, so there is nothing for either to apply to them (and under
/// permessage-deflate a frame without RSV1 is simply uncompressed). The
/// close frame is sent through the handler after `finish()`, so it follows
/// every event.
struct FrameWriter {
    let sink: ChannelSink
    /// The last batch handed to the event loop, until it is written.
    private var inFlight: Batch?

    init(sink: ChannelSink) {
        self.sink = sink
    }

    /// Waits for the previous batch to be written, then hands `frames` to the
    /// event loop and returns without waiting for them.
    mutating func write(_ frames: [WireFrame]) async throws {
        guard !frames.isEmpty else { return }
        try Task.checkCancellation()
        try await finish()
        let sink = self.sink
        let batch = Batch()
        sink.eventLoop.execute { sink.write(frames[...], written: batch.complete) }
        inFlight = batch
    }

    /// Waits until every batch handed over is written.
    mutating func finish() async throws {
        guard let inFlight else { return }
        self.inFlight = nil
        try await inFlight.written()
    }

    /// A batch's outcome, recorded on the event loop as it happens, so that
    /// waiting for a batch already written costs no trip to the event loop
    /// (asking its future would: a live client would pay one per batch).
    private final class Batch: Sendable {
        private struct State {
            var result: Result<Void, any Error>?
            var waiter: CheckedContinuation<Void, any Error>?
        }
        private let state = Mutex(State())

        func complete(_ result: Result<Void, any Error>) {
            let waiter = state.withLock { state in
                state.result = result
                return state.waiter.take()
            }
            waiter?.resume(with: result)
        }

        /// Returns once the batch is written; a cancelled task stops waiting at
        /// once (a client that closes without reading leaves it unwritten).
        func written() async throws {
            if let result = state.withLock({ $0.result }) { return try result.get() }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
                    let now = state.withLock { state -> Result<Void, any Error>? in
                        if let result = state.result { return result }
                        if Task.isCancelled { return .failure(CancellationError()) }
                        state.waiter = waiter
                        return nil
                    }
                    if let now { waiter.resume(with: now) }
                }
            } onCancel: {
                state.withLock { $0.waiter.take() }?.resume(throwing: CancellationError())
            }
        }
    }
}
