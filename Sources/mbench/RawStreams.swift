import CProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Many `/runs/{id}/stream` WebSocket clients on one thread (epoll), for the
/// loaded latency scenario. Two hundred NIO clients cost the bench about as
/// much CPU as mweb itself; on 2 shared cores that inflates the very latency
/// being measured (the same reason the replay client scans bytes). Real
/// clients run on phones, not beside the server: the less CPU the bench's
/// own clients take, the closer the figure is to what a user sees. Each
/// client speaks just enough RFC 6455: the upgrade, unmasked server frames
/// (text, close, ping), and a resume with `after=` when closed with 4008.
final class RawStreams: @unchecked Sendable {
    /// Called with each text frame's payload and the wall-clock time (ns) the
    /// kernel received it; returns false once the client has what it needs.
    typealias FrameHandler = (ArraySlice<UInt8>, UInt64) -> Bool

    private struct Client {
        let runId: Int64
        var fd: Int32 = -1
        var buffer: [UInt8] = []
        var cursor: Int64 = 0
        var done = false
        /// When the kernel received the newest bytes in `buffer` (SO_TIMESTAMPNS).
        var receivedAt: UInt64 = 0
    }

    private let host = "127.0.0.1"
    private let port: UInt16
    private let token: String
    private var clients: [Client]
    private(set) var reconnects = 0
    /// Clients whose upgrade response already carried frames (parsed before the next wait).
    private var unparsed: Set<Int> = []
    /// The epoll instance every client's socket is registered with (its token is the client's index).
    private let epoll: Int32

    /// One client per entry of `runIds` (repeat an id for several clients of a run).
    init(baseURL: String, token: String, runIds: [Int64]) throws {
        guard let url = URL(string: baseURL), let port = url.port else {
            throw Cluster.SetupError(description: "cannot read a port from \(baseURL)")
        }
        self.port = UInt16(port)
        self.token = token
        clients = runIds.map { Client(runId: $0) }
        epoll = m_epoll_create()
        guard epoll >= 0 else { throw Cluster.SetupError(description: "epoll_create1 failed: \(errno)") }
    }

    deinit {
        for client in clients where client.fd >= 0 { close(client.fd) }
        close(epoll)
    }

    /// Connects every client, then reads until each handler returned false.
    /// It blocks: call it on a thread of its own.
    func run(deadline: Date, onFrame: FrameHandler) throws {
        for index in clients.indices { try connect(index) }
        var scratch = [UInt8](repeating: 0, count: 256 * 1024)
        var ready = [UInt64](repeating: 0, count: 256)
        while clients.contains(where: { !$0.done }) {
            guard Date() < deadline else { throw Cluster.SetupError(description: "stream clients did not finish in time") }
            while let index = unparsed.popFirst() { try parseFrames(index, onFrame: onFrame) }
            let count = m_epoll_wait(epoll, &ready, Int32(ready.count), 1000)
            if count < 0 && errno != EINTR { throw Cluster.SetupError(description: "epoll_wait failed: \(errno)") }
            for token in ready.prefix(Int(max(0, count))) {
                let index = Int(token)
                if !clients[index].done && clients[index].fd >= 0 { try readAvailable(index, scratch: &scratch, onFrame: onFrame) }
            }
        }
    }

    private func readAvailable(_ index: Int, scratch: inout [UInt8], onFrame: FrameHandler) throws {
        while !clients[index].done && clients[index].fd >= 0 {
            let fd = clients[index].fd
            let (n, receivedAt) = receive(fd, into: &scratch)
            if n > 0 {
                clients[index].buffer.append(contentsOf: scratch[0..<n])
                clients[index].receivedAt = receivedAt
                try parseFrames(index, onFrame: onFrame)
                // A short read took what the socket held (the next poll reports more).
                if n < scratch.count { return }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            // The server closed the connection without a close frame: resume.
            try reconnect(index)
            return
        }
    }

    private func parseFrames(_ index: Int, onFrame: FrameHandler) throws {
        var position = 0
        // Taken out of the client so that dropping the parsed bytes below does not copy the rest.
        var buffer = clients[index].buffer
        clients[index].buffer = []
        while buffer.count - position >= 2 {
            let opcode = buffer[position] & 0x0F
            var length = Int(buffer[position + 1] & 0x7F)
            var header = 2
            if length == 126 {
                guard buffer.count - position >= 4 else { break }
                length = Int(buffer[position + 2]) << 8 | Int(buffer[position + 3])
                header = 4
            } else if length == 127 {
                guard buffer.count - position >= 10 else { break }
                length = (0..<8).reduce(0) { $0 << 8 | Int(buffer[position + 2 + $1]) }
                header = 10
            }
            guard buffer.count - position >= header + length else { break }
            let payload = buffer[(position + header)..<(position + header + length)]
            position += header + length
            switch opcode {
            case 0x1:
                if let seq = FrameScan.integer(after: FrameScan.seqKey, in: payload) { clients[index].cursor = Int64(seq) }
                if !onFrame(payload, clients[index].receivedAt) {
                    clients[index].done = true
                    close(clients[index].fd)
                    clients[index].fd = -1
                    return
                }
            case 0x8:
                // Closed (4008: too slow): resume after the last seq received.
                try reconnect(index)
                return
            case 0x9:
                sendPong(index, payload: Array(payload))
            default:
                break
            }
        }
        buffer.removeFirst(position)
        clients[index].buffer = buffer
    }

    /// Reads what the socket holds, with the time the kernel received it:
    /// that is when the frame reached the client, whatever this thread was
    /// doing then (real clients are phones, not a thread sharing the
    /// server's cores). For several segments it is the newest one's time,
    /// so a frame is never counted as earlier than it came.
    private func receive(_ fd: Int32, into scratch: inout [UInt8]) -> (Int, UInt64) {
        var control = [UInt64](repeating: 0, count: 8)
        let n = scratch.withUnsafeMutableBytes { data -> Int in
            control.withUnsafeMutableBytes { controlBytes -> Int in
                var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer -> Int in
                    var header = msghdr()
                    header.msg_iov = vectorPointer
                    header.msg_iovlen = 1
                    header.msg_control = controlBytes.baseAddress
                    header.msg_controllen = controlBytes.count
                    return recvmsg(fd, &header, 0)
                }
            }
        }
        // One control message: cmsghdr (len u64, level i32, type i32), then a timespec.
        guard n > 0, control[0] >= 32, control[1] == UInt64(UInt32(SOL_SOCKET)) | UInt64(UInt32(SO_TIMESTAMPNS)) << 32 else {
            return (n, wallNanos())
        }
        return (n, control[2] * 1_000_000_000 + control[3])
    }

    private func sendPong(_ index: Int, payload: [UInt8]) {
        // Client frames are masked; a zero key leaves the payload as it is.
        var frame: [UInt8] = [0x8A, 0x80 | UInt8(min(payload.count, 125)), 0, 0, 0, 0]
        frame += payload.prefix(125)
        _ = frame.withUnsafeBytes { send(clients[index].fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    private func reconnect(_ index: Int) throws {
        if clients[index].fd >= 0 { close(clients[index].fd) }
        clients[index].fd = -1
        clients[index].buffer = []
        reconnects += 1
        guard reconnects < 1000 else { throw Cluster.SetupError(description: "streams kept closing") }
        try connect(index)
    }

    /// Opens the socket, upgrades it (blocking), then makes it non-blocking for the poll loop.
    private func connect(_ index: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Cluster.SetupError(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Cluster.SetupError(description: "cannot connect to mweb on port \(port)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, socklen_t(MemoryLayout<Int32>.size))
        let client = clients[index]
        let request = "GET /api/v1/runs/\(client.runId)/stream?after=\(client.cursor) HTTP/1.1\r\n"
            + "Host: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: bWJlbmNoLXJhdy1zdHJlYW0=\r\nSec-WebSocket-Version: 13\r\n"
            + "Authorization: Bearer \(token)\r\n\r\n"
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            close(fd)
            throw Cluster.SetupError(description: "cannot send the upgrade request")
        }
        // Read the response head; bytes after it are already frames.
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let end = Array("\r\n\r\n".utf8)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                close(fd)
                throw Cluster.SetupError(description: "mweb closed the connection during the upgrade")
            }
            head += chunk[0..<n]
            if let range = head.firstRange(of: end) {
                let status = String(decoding: head[..<range.lowerBound], as: UTF8.self)
                guard status.hasPrefix("HTTP/1.1 101") else {
                    close(fd)
                    throw Cluster.SetupError(description: "upgrade refused: \(status.prefix(80))")
                }
                clients[index].buffer = Array(head[range.upperBound...])
                if !clients[index].buffer.isEmpty { unparsed.insert(index) }
                break
            }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        clients[index].fd = fd
        guard m_epoll_add(epoll, fd, UInt64(index)) == 0 else {
            throw Cluster.SetupError(description: "epoll_ctl failed: \(errno)")
        }
    }
}
