import NIOCore
import NIOWebSocket

/// A client's frames (replayed and live) go straight into its channel, as their wire bytes
/// (`WireFrame.wire`), written from the WebSocket encoder's place in the
/// pipeline: they reach the handlers below it (TLS, the socket) exactly as
/// the encoder's own output would, without the encoder building and queueing
/// a separate header per frame per client. Frames the WebSocket handler sends
/// (ping, pong, close) still pass through the encoder; the event loop keeps
/// both in the order they were written. mweb negotiates no extension, so the
/// encoder would have nothing to apply to them (see `FrameWriter`).
struct ChannelSink: LiveSink {
    let eventLoop: any EventLoop
    private let belowEncoder: NIOLoopBound<ChannelHandlerContext>

    /// The sink of `channel`, found on its event loop.
    static func of(_ channel: any Channel) async throws -> ChannelSink {
        try await channel.eventLoop.submit {
            let context = try channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
            return ChannelSink(eventLoop: channel.eventLoop,
                               belowEncoder: NIOLoopBound(context, eventLoop: channel.eventLoop))
        }.get()
    }

    func write(_ frames: ArraySlice<WireFrame>, written: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        guard let last = frames.last else { return written(.success(())) }
        let context = belowEncoder.value
        for frame in frames.dropLast() { context.write(NIOAny(frame.wire), promise: nil) }
        // The last write's promise completes once every write before it has
        // (or fails once the client is gone): one promise per client per
        // round, not per frame.
        let promise = eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete(written)
        context.writeAndFlush(NIOAny(last.wire), promise: promise)
    }
}
