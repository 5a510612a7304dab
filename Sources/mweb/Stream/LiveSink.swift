import NIOCore

/// Where a client's live frames are written once its replay is done: its
/// WebSocket channel (`ChannelSink`), or a recorder in tests.
protocol LiveSink: Sendable {
    /// The event loop `write` runs on. The tailer hands each event loop one
    /// task per round carrying every client of that loop.
    var eventLoop: any EventLoop { get }

    /// Writes `frames` in order with one flush, on `eventLoop`; calls
    /// `written` once they are in the kernel, or with the error once they can
    /// no longer be (the client left).
    func write(_ frames: ArraySlice<WireFrame>, written: @escaping @Sendable (Result<Void, any Error>) -> Void)
}
