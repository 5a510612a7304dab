import NIOCore
import NIOWebSocket
import Synchronization

/// Sends a client's event frames in batches, straight into its channel: one
/// event-loop hop and one flush (one `writev`) per batch, and at most one
/// batch in flight while the caller prepares the next.
///
/// Why not `WebSocketOutboundWriter.write` per frame: each call hops to the
/// WebSocket handler's actor and to the event loop and flushes alone, so a
/// replay paid a `writev` per event; and it returns before the event loop has
/// taken the frame, so a replay faster than the socket queued frames on the
/// event loop without bound (mweb's RSS grew with the run's length). Here
/// `write` waits until the previous batch is in the kernel: memory is two
/// batches per client whatever the run's size, and a slow reader slows the
/// replay instead of growing mweb.
///
/// The frames pass through the same pipeline as the WebSocket handler's own
/// (ping, pong, close), below it; mweb negotiates no WebSocket extension, so
/// there is nothing for the handler to apply to them. The close frame is
/// sent through the handler after `finish()`, so it follows every event.
struct FrameWriter {
    let channel: any Channel
    /// The last batch handed to the event loop, until it is written.
    private var inFlight: EventLoopFuture<Void>?

    init(channel: any Channel) {
        self.channel = channel
    }

    /// Waits for the previous batch to be written, then hands `frames` to the
    /// event loop and returns without waiting for them.
    mutating func write(_ frames: [WebSocketFrame]) async throws {
        guard let last = frames.last else { return }
        try Task.checkCancellation()
        try await finish()
        let channel = self.channel
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute {
            for frame in frames.dropLast() { channel.write(frame, promise: nil) }
            channel.writeAndFlush(last, promise: written)
        }
        inFlight = written.futureResult
    }

    /// Waits until every batch handed over is written.
    mutating func finish() async throws {
        guard let inFlight else { return }
        self.inFlight = nil
        try await FrameWriter.wait(for: inFlight)
    }

    /// Like `future.get()`, but a cancelled task stops waiting at once (a
    /// client that closes without reading leaves the last batch unwritten).
    private static func wait(for future: EventLoopFuture<Void>) async throws {
        let waiter = Waiter()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                waiter.continuation.withLock { $0 = continuation }
                if Task.isCancelled { waiter.resume(with: .failure(CancellationError())) }
                future.whenComplete { waiter.resume(with: $0) }
            }
        } onCancel: {
            waiter.resume(with: .failure(CancellationError()))
        }
    }

    /// Resumes its continuation once, whichever comes first.
    private final class Waiter: Sendable {
        let continuation = Mutex<CheckedContinuation<Void, any Error>?>(nil)
        func resume(with result: Result<Void, any Error>) {
            continuation.withLock { $0.take() }?.resume(with: result)
        }
    }
}
