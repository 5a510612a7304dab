import NIOCore
import NIOWebSocket

/// A client's live frames go straight into its channel, below the WebSocket
/// handler, as `FrameWriter`'s replay batches do (see there why that is safe).
struct ChannelSink: LiveSink {
    let channel: any Channel

    var eventLoop: any EventLoop { channel.eventLoop }

    func write(_ frames: ArraySlice<WireFrame>, written: @escaping @Sendable () -> Void) {
        guard let last = frames.last else { return written() }
        for frame in frames.dropLast() { channel.write(frame.frame, promise: nil) }
        // The last write's promise completes once every write before it has:
        // one promise per client per round, not per frame.
        channel.writeAndFlush(last.frame).whenComplete { _ in written() }
    }
}
