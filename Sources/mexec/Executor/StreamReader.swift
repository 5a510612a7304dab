import Foundation
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// Reads one agent stream (pipe or PTY master) on its own thread, as the
/// bytes come (no waiting for newlines), and hands UTF-8-aligned chunks of at
/// most `Defaults.outputEventMaxBytes` to the queue. A blocking read is a
/// thread's job, not the cooperative pool's: two stuck readers would starve
/// every task on a 2-core machine.
final class StreamReader: @unchecked Sendable {
    private let fd: Int32
    private let stream: String
    private let queue: OutputQueue
    private let abandon: LockedFlag
    private let thread: Thread

    /// Starts reading at once. `abandon` stops a reader whose stream is held
    /// open by a process that escaped the agent's group.
    init(fd: Int32, stream: String, queue: OutputQueue, abandon: LockedFlag) {
        self.fd = fd
        self.stream = stream
        self.queue = queue
        self.abandon = abandon
        let box = Unchecked<(Int32, String, OutputQueue, LockedFlag)>((fd, stream, queue, abandon))
        thread = Thread {
            let (fd, stream, queue, abandon) = box.value
            StreamReader.loop(fd: fd, stream: stream, queue: queue, abandon: abandon)
        }
        thread.name = "reader-\(stream)"
        thread.start()
    }

    private static func loop(fd: Int32, stream: String, queue: OutputQueue, abandon: LockedFlag) {
        let readSize = Defaults.outputEventMaxBytes - 3 // room for a carried partial character
        var buffer = [UInt8](repeating: 0, count: readSize)
        var carry: [UInt8] = []
        defer {
            if !carry.isEmpty { queue.put(OutputChunk(stream: stream, bytes: carry)) }
            queue.finish()
        }
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = Glibc.poll(&pfd, 1, 100)
            if ready < 0 && errno != EINTR { return }
            if ready <= 0 {
                if abandon.isSet { return }
                continue
            }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, readSize) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return // EIO: the PTY's last slave closed
            }
            if n == 0 { return }
            var bytes = carry
            bytes.append(contentsOf: buffer[0..<n])
            let tail = OutputEncoding.incompleteTail(bytes)
            if tail > 0 {
                carry = Array(bytes[(bytes.count - tail)...])
                bytes.removeLast(tail)
            } else {
                carry.removeAll()
            }
            if !bytes.isEmpty { queue.put(OutputChunk(stream: stream, bytes: bytes)) }
        }
    }
}
