import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Wraps mweb's HTTP child channel with the limits a server facing the
/// network needs and Hummingbird does not set before a connection's first
/// request: a cap on open connections (`ConnectionTracker`) and a deadline for
/// the first request head with a 400 for one that does not parse
/// (`RequestHeadGuard`). Between requests Hummingbird's own idle timeout
/// applies. Under TLS it sits inside the TLS handler, so the deadline covers
/// the handshake too.
struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let tracker: ConnectionTracker
    let headerTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        // Counted in here and out when it closes: no handler in the pipeline, so reads and
        // writes of a live connection (the event stream) never pass through the guard.
        // A refused one is closed at once and set up as usual (it finds its input closed), which
        // keeps the framework from logging a failed setup for every connection of a flood.
        if tracker.admit(channel) {
            channel.closeFuture.whenComplete { [tracker] _ in tracker.release(channel) }
        } else {
            channel.close(promise: nil)
        }
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // The head guard reads parsed parts: it goes right after the request decoder.
            let decoder = try channel.pipeline.syncOperations.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(
                RequestHeadGuard(tracker: tracker, timeout: headerTimeout), position: .after(decoder.handler))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// The open connections, and which of them have not sent a complete request
/// head yet. At the cap, a new connection pushes out the oldest one still
/// waiting for its head, so slow or half-sent requests can never lock out a
/// client that speaks promptly (`/healthz` keeps answering); only when every
/// connection is busy with real requests is the newcomer closed.
final class ConnectionTracker: Sendable {
    private struct State {
        var open = 0
        var nextOrder: UInt64 = 0
        var waiting: [ObjectIdentifier: (order: UInt64, channel: any Channel)] = [:]
    }
    private let state = Mutex(State())
    /// The most connections open at once.
    let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    /// The cap for this process: `configured`, lowered to what the descriptor
    /// limit (`ulimit -n`) leaves after the descriptors already open (a parent
    /// may have leaked some to us) and `WebDefaults.reservedDescriptors`.
    static func limit(configured: Int) -> Int {
        var rl = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0, rl.rlim_cur < rlim_t(Int.max) else { return configured }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return max(8, min(configured, Int(rl.rlim_cur) - open - WebDefaults.reservedDescriptors))
    }

    /// Counts a new connection; false when it must be closed at once.
    func admit(_ channel: any Channel) -> Bool {
        let (admitted, evicted) = state.withLock { state -> (Bool, (any Channel)?) in
            var evicted: (any Channel)?
            if state.open >= limit {
                guard let oldest = state.waiting.min(by: { $0.value.order < $1.value.order }) else { return (false, nil) }
                state.waiting[oldest.key] = nil
                evicted = oldest.value.channel
            }
            state.open += 1
            state.waiting[ObjectIdentifier(channel)] = (state.nextOrder, channel)
            state.nextOrder += 1
            return (true, evicted)
        }
        evicted?.close(promise: nil)
        return admitted
    }

    /// The connection sent a complete request head: it is no longer pushed out for newcomers.
    func started(_ channel: any Channel) {
        _ = state.withLock { $0.waiting.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// The connection closed.
    func release(_ channel: any Channel) {
        state.withLock { state in
            state.open -= 1
            state.waiting[ObjectIdentifier(channel)] = nil
        }
    }

    /// Connections open now (for tests).
    var openCount: Int { state.withLock { $0.open } }
}

/// Between the request decoder and the rest of the pipeline until the first
/// request head has arrived: closes a connection that has not sent one within
/// the deadline (408), and answers a request that does not parse with a 400
/// and a close instead of holding the connection. It then leaves the pipeline,
/// so a WebSocket upgrade never sees it.
final class RequestHeadGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private let tracker: ConnectionTracker
    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    private var answered = false

    init(tracker: ConnectionTracker, timeout: TimeAmount) {
        self.tracker = tracker
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loop = context.eventLoop.assumeIsolated()
        deadline = loop.scheduleTask(in: timeout) { [self] in
            deadline = nil
            refuse(context, .requestTimeout)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        let isHead: Bool
        if case .head = unwrapInboundIn(data) { isHead = true } else { isHead = false }
        context.fireChannelRead(data)
        if isHead {
            deadline?.cancel()
            deadline = nil
            tracker.started(context.channel)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            refuse(context, .badRequest)
        } else {
            context.fireErrorCaught(error)
        }
    }

    /// Answers with `status` and closes the connection.
    private func refuse(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus) {
        guard !answered else { return }
        answered = true
        let head = HTTPResponseHead(version: .http1_1, status: status,
                                    headers: ["connection": "close", "content-length": "0"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
