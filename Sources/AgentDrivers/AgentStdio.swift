import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The agent's stdin and stdout, owned by the driver: lines written to stdin on a serial queue of
/// their own, stdout read by a dedicated thread into an `AsyncStream` of lines. Both block, so
/// neither runs on Swift's cooperative pool. The agent's stderr stays with the host (raw output).
public final class AgentStdio: Sendable {
    /// Longest line kept as one line; a longer one is cut into pieces of this size (each then
    /// fails to parse and is kept as raw output, with a notice).
    public static let maxLineBytes = 64 << 20

    private let stdinFD: Locked<Int32>
    private let stdoutFD: Int32
    private let writes = DispatchQueue(label: "m.agent-stdin")
    private let started = Locked(false)

    /// Takes ownership of the two descriptors (closed when stdin is closed and stdout ends).
    public init(stdin: Int32, stdout: Int32) {
        stdinFD = Locked(stdin)
        stdoutFD = stdout
    }

    /// The agent's stdout as lines without their newline; ends at end of file. Call once.
    public func lines() -> AsyncStream<[UInt8]> {
        let first = started.withLock { was -> Bool in defer { was = true }; return !was }
        precondition(first, "AgentStdio.lines() is called once per agent")
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        let fd = stdoutFD
        let thread = Thread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                var start = 0
                for i in 0..<n where buffer[i] == 0x0A {
                    pending.append(contentsOf: buffer[start..<i])
                    continuation.yield(pending)
                    pending.removeAll(keepingCapacity: true)
                    start = i + 1
                }
                pending.append(contentsOf: buffer[start..<n])
                while pending.count > AgentStdio.maxLineBytes {
                    continuation.yield(Array(pending.prefix(AgentStdio.maxLineBytes)))
                    pending.removeFirst(AgentStdio.maxLineBytes)
                }
            }
            if !pending.isEmpty { continuation.yield(pending) }
            close(fd)
            continuation.finish()
        }
        thread.name = "m.agent-stdout"
        thread.start()
        return stream
    }

    /// Writes `line` and a newline to the agent's stdin.
    public func send(_ line: String) async throws {
        let bytes = Array(line.utf8) + [0x0A]
        let fdBox = stdinFD
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            writes.async {
                let fd = fdBox.withLock { $0 }
                guard fd >= 0 else { return continuation.resume(throwing: DriverError.stdinClosed("it was closed")) }
                var offset = 0
                while offset < bytes.count {
                    let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 {
                        return continuation.resume(throwing: DriverError.stdinClosed(String(cString: strerror(errno))))
                    }
                    offset += n
                }
                continuation.resume()
            }
        }
    }

    /// Closes the agent's stdin (after queued writes): end of file for the agent.
    public func closeStdin() async {
        let fdBox = stdinFD
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            writes.async {
                fdBox.withLock { fd in
                    if fd >= 0 { close(fd) }
                    fd = -1
                }
                continuation.resume()
            }
        }
    }
}
