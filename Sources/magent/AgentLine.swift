import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Newline-delimited JSON framing shared by the agent socket's client and server.
public enum AgentLine {
    /// Longest request or response line accepted (a runaway peer cannot exhaust memory).
    public static let maxBytes = 1 << 20

    /// Encodes a value as one line of compact JSON, newline included.
    public static func encode<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        data.append(0x0A)
        return data
    }

    /// Reads one line (without its newline) from a connected socket; nil at EOF
    /// before a full line, or when the line is longer than `maxBytes`.
    public static func read(fd: Int32) -> Data? {
        var line = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            // Consume up to and including the newline only, so nothing after it is lost.
            let chunk = buffer[0..<n]
            let take = (chunk.firstIndex(of: 0x0A).map { $0 + 1 }) ?? n
            let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, take) }
            if got <= 0 { return nil }
            line.append(contentsOf: buffer[0..<got])
            if line.last == 0x0A { line.removeLast(); return line }
            if line.count > maxBytes { return nil }
        }
    }

    /// Writes all of `data`, retrying short writes; false if the peer went away.
    public static func write(fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }
}
