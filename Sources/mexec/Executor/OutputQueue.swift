import Foundation

/// One read from an agent stream.
struct OutputChunk {
    var stream: String
    var bytes: [UInt8]
}

/// The bounded hand-off between the stream readers and the committer. A
/// reader blocks while `maxBytes` are waiting, so a database slower than the
/// agent back-pressures the agent's pipe instead of growing memory. The
/// committer takes everything that arrived while it was committing: group
/// commit without a timer.
final class OutputQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [OutputChunk] = []
    private var bytes = 0
    private var openStreams: Int
    private let maxBytes: Int

    init(streams: Int, maxBytes: Int) {
        openStreams = streams
        self.maxBytes = maxBytes
    }

    /// Adds a chunk, waiting while the queue is full.
    func put(_ chunk: OutputChunk) {
        condition.lock()
        while bytes >= maxBytes { condition.wait() }
        chunks.append(chunk)
        bytes += chunk.bytes.count
        condition.broadcast()
        condition.unlock()
    }

    /// A reader reached the end of its stream.
    func finish() {
        condition.lock()
        openStreams -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for chunks and takes them all; nil once every stream ended and
    /// everything was taken.
    func takeAll() -> [OutputChunk]? {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty && openStreams > 0 { condition.wait() }
        if chunks.isEmpty { return nil }
        let taken = chunks
        chunks.removeAll(keepingCapacity: true)
        bytes = 0
        condition.broadcast()
        return taken
    }
}
