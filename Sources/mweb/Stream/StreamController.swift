import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import NIOWebSocket
import mdb

/// The WebSocket streams: `/runs/{id}/stream?after=SEQ` and `/stream?after=ID`.
/// Each sends every stored event after the cursor, then live events, in
/// order, without gaps or duplicates; a client that falls behind is closed
/// with code 4008 and the reason `too slow, resume with after=<cursor>`.
struct StreamController {
    let store: any MStore
    let fanOut: FanOut
    let config: AppConfig

    func addRoutes(to group: RouterGroup<MRequestContext>) {
        group.ws("runs/:id/stream", shouldUpgrade: { request, context in
            try check(request, context)
            _ = try await store.run(RequestInput.id(context))
            _ = try RequestInput.integer(request, "after", fallback: 0)
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, ws in
            let runId = try RequestInput.id(ws.requestContext)
            let after = try RequestInput.integer(ws.request, "after", fallback: 0)
            try await serve(inbound: inbound, outbound: outbound, channel: ws.requestContext.channel, runId: runId, after: after)
        })
        group.ws("stream", shouldUpgrade: { request, context in
            try check(request, context)
            _ = try RequestInput.integer(request, "after", fallback: 0)
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, ws in
            // Without `after`, the all-runs stream starts with what happens next.
            let latest = try await store.lastEventId()
            let after = try RequestInput.integer(ws.request, "after", fallback: latest)
            try await serve(inbound: inbound, outbound: outbound, channel: ws.requestContext.channel, runId: nil, after: after)
        })
    }

    /// Scope, a real upgrade request, and for cookie sessions a same-origin
    /// page (a cookie is sent by the browser for any page that opens a socket).
    private func check(_ request: Request, _ context: MRequestContext) throws {
        let identity = try context.require(.read)
        guard request.headers[.upgrade]?.lowercased() == "websocket" else {
            throw APIError.badRequest("this is a WebSocket endpoint: connect with a WebSocket client")
        }
        if identity.viaCookie, let origin = request.headers[.origin],
           !SameOrigin.allows(origin: origin, request: request, config: config) {
            throw APIError(.forbidden, "forbidden", "cross-site WebSocket refused: open the page from \(request.head.authority ?? "")")
        }
    }

    /// Subscribes, replays from the database, then forwards live frames;
    /// stops when the client leaves.
    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel,
                       runId: Int64?, after: Int64) async throws {
        let queue = fanOut.subscribe(runId: runId)
        defer { fanOut.unsubscribe(queue) }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            // Reading is what notices the client's close frame (true: the client left).
            group.addTask { for try await _ in inbound {}; return true }
            group.addTask { try await pump(channel: channel, outbound: outbound, queue: queue, runId: runId, after: after) }
            if try await group.next() == false, queue.overflowed {
                // The 4008 close frame sits behind the frames the client has not
                // read yet; closing the socket now would drop it. Wait, a bounded
                // while, for the client to read up to it and answer the close.
                group.addTask {
                    try await Task.sleep(for: .seconds(WebDefaults.slowClientCloseGraceSeconds))
                    return false
                }
                _ = try await group.next()
            }
            group.cancelAll()
        }
    }

    /// Replays, then hands the client to the tailer and waits until the
    /// subscription ends; returns false when it did (overflow, after sending
    /// the close frame, or shutdown). Replayed frames go out a page at a
    /// time; live ones are written by the tailer's rounds (`ClientQueue`), so
    /// this task does not wake per frame.
    private func pump(channel: any Channel, outbound: WebSocketOutboundWriter, queue: ClientQueue, runId: Int64?,
                      after: Int64) async throws -> Bool {
        let sink = try await ChannelSink.of(channel)
        var writer = FrameWriter(sink: sink)
        let cursor = try await replay(to: &writer, runId: runId, after: after)
        try await writer.finish()
        if queue.goLive(after: cursor, sink: sink) {
            await queue.ended()
        }
        if queue.overflowed {
            try await outbound.close(WebSocketErrorCode(codeNumber: Int(WebDefaults.slowClientCloseCode)),
                                     reason: "too slow, resume with after=\(queue.cursor)")
        }
        return false
    }

    /// Sends the stored events after `after`, a page at a time, reading the
    /// next page while the previous one is sent; returns the new cursor (the
    /// run's seq for a run stream, the event id for all runs).
    private func replay(to writer: inout FrameWriter, runId: Int64?, after: Int64) async throws -> Int64 {
        var cursor = after
        while true {
            let page = try await replayPage(runId: runId, after: cursor)
            if let last = page.last { cursor = runId == nil ? last.id : last.seq }
            try await writer.write(page)
            if page.count < WebDefaults.pageSize { return cursor }
        }
    }

    /// The next page of stored events after `cursor`, encoded. One read,
    /// finished before any send; the rows are dropped once encoded, so a
    /// client holds at most two pages (one being sent, one ready).
    private func replayPage(runId: Int64?, after cursor: Int64) async throws -> [WireFrame] {
        let events = if let runId {
            try await store.events(runId: runId, afterSeq: cursor, limit: WebDefaults.pageSize)
        } else {
            try await store.events(afterId: cursor, limit: WebDefaults.pageSize)
        }
        return events.map(WireFrame.init)
    }
}
