import Foundation
import MTestSupport
import Testing
import mdb
@testable import mweb

/// Server-to-client WebSocket frames (unmasked) parsed from raw bytes.
func parseServerFrames(_ bytes: [UInt8]) -> [(opcode: UInt8, payload: [UInt8])] {
    var frames: [(UInt8, [UInt8])] = []
    var i = 0
    while i + 2 <= bytes.count {
        let opcode = bytes[i] & 0x0f
        var length = Int(bytes[i + 1] & 0x7f)
        var header = 2
        if length == 126 {
            guard i + 4 <= bytes.count else { break }
            length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            header = 4
        } else if length == 127 {
            guard i + 10 <= bytes.count else { break }
            length = (2..<10).reduce(0) { $0 << 8 | Int(bytes[i + $1]) }
            header = 10
        }
        guard i + header + length <= bytes.count else { break }
        frames.append((opcode, Array(bytes[(i + header)..<(i + header + length)])))
        i += header + length
    }
    return frames
}

extension StreamLoad {
    @Suite struct SlowClientTests {
        @Test func aClientThatFallsBehindIsClosedWith4008WhileOthersKeepUp() async throws {
            try await LiveServer.with({ $0.clientQueueFrames = 1_024 }) { server in
                let run = try server.db.createRun(NewRun(spec: RunSpec(command: "loud")))
                _ = try server.db.claimNextRun(workerId: "w")
                // The slow client: opens the socket, then reads nothing.
                let slow = try RawSocket(port: server.port, receiveBufferBytes: 4096)
                try slow.send("GET /api/v1/runs/\(run.id)/stream?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              + "Authorization: Bearer \(server.readToken)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
                var handshake = try slow.receiveBytes { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
                try #require(String(decoding: handshake, as: UTF8.self).hasPrefix("HTTP/1.1 101"),
                             "upgrade answered with: \(String(decoding: handshake, as: UTF8.self).prefix(200)) (errno \(errno))")
                let total = 3_000
                let fastSeqs = LockedBox<[Int64]>([])
                async let fast: UInt16? = stream(port: server.port, path: "/api/v1/runs/\(run.id)/stream?after=0",
                                                 token: server.readToken) { text in
                    guard let seq = quickSeq(text) else { return false }
                    fastSeqs.mutate { $0.append(seq) }
                    return !text.contains("\"type\":\"run.finished\"")
                }
                try await onThread { try writeFastRun(server.db, runId: run.id, count: total, textBytes: 8_000, pauseMicroseconds: 1_000) }
                _ = try await fast
                let lastSeq = try server.db.run(run.id).lastSeq
                #expect(fastSeqs.get() == Array(1...lastSeq), "the fast client got everything")

                // Now read what the slow client was sent: consecutive events, then close 4008.
                let headerEnd = try #require(String(decoding: handshake, as: UTF8.self).range(of: "\r\n\r\n")).upperBound.utf16Offset(
                    in: String(decoding: handshake, as: UTF8.self))
                handshake.removeFirst(headerEnd)
                let rest = handshake + (try slow.receiveBytes { parseServerFrames($0).contains { $0.opcode == 0x8 } })
                let frames = parseServerFrames(rest)
                let close = try #require(frames.first { $0.opcode == 0x8 }, "the slow client was closed")
                let code = UInt16(close.payload[0]) << 8 | UInt16(close.payload[1])
                let reason = String(decoding: close.payload.dropFirst(2), as: UTF8.self)
                #expect(code == WebDefaults.slowClientCloseCode)
                let texts = frames.filter { $0.opcode == 0x1 }.map { String(decoding: $0.payload, as: UTF8.self) }
                let seqs = texts.compactMap(quickSeq)
                #expect(!seqs.isEmpty && seqs == Array(1...Int64(seqs.count)), "what it got was in order without gaps")
                #expect(seqs.count < lastSeq, "it fell behind")
                #expect(reason == "too slow, resume with after=\(seqs.last ?? 0)")
            }
        }
    }
}
