import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `mbench agent`: the program the bench's runs execute. It prints lines that
/// carry the wall-clock time they were written (`t=<ns>`), at a fixed rate or
/// as fast as it can, with one write(2) per line so nothing waits in a buffer.
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agent", abstract: "Print stamped lines (used by runs).")

    @Option(help: "Lines per second (0: as fast as possible).")
    var rate: Double = 200

    @Option(help: "How many lines.")
    var count: Int = 1000

    @Option(help: "Seconds to wait before the first line (lets clients connect).")
    var delay: Double = 0

    func run() throws {
        if delay > 0 { usleep(UInt32(delay * 1_000_000)) }
        let start = wallNanos()
        let interval = rate > 0 ? UInt64(1e9 / rate) : 0
        if rate == 0 {
            // As fast as possible: big writes, like a build log scrolling by.
            var buffer = ""
            for i in 0..<count {
                buffer += "line \(i): the quick brown fox jumps over the lazy dog\n"
                if buffer.utf8.count > 60_000 || i == count - 1 { writeAll(buffer); buffer = "" }
            }
            return
        }
        // Each line is formatted into one reused buffer (no String per line): the
        // 50 agents of the loaded scenario share the 2 cores with what they measure.
        var line = [UInt8](repeating: 0, count: 64)
        for i in 0..<count {
            let due = start + UInt64(i) * interval
            let now = wallNanos()
            if due > now { usleep(UInt32((due - now) / 1000)) }
            let length = Self.format(stamp: wallNanos(), number: i, into: &line)
            line.withUnsafeBytes { _ = write(1, $0.baseAddress!, length) }
        }
    }

    /// Writes `t=<stamp> n=<number>\n` at the start of `line`; returns its length.
    static func format(stamp: UInt64, number: Int, into line: inout [UInt8]) -> Int {
        var length = 0
        func put(_ byte: UInt8) { line[length] = byte; length += 1 }
        func put(digitsOf value: UInt64) {
            let first = length
            var rest = value
            repeat { put(0x30 + UInt8(rest % 10)); rest /= 10 } while rest > 0
            line[first..<length].reverse()
        }
        put(0x74); put(0x3D) // t=
        put(digitsOf: stamp)
        put(0x20); put(0x6E); put(0x3D) // " n="
        put(digitsOf: UInt64(number))
        put(0x0A)
        return length
    }

    private func writeAll(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// `mbench asker`: asks for approval N times through `mcli ask` and prints,
/// after each answer, the wall-clock time at which `mcli ask` returned.
struct AskerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "asker", abstract: "Ask N approvals in a row (used by runs).")

    @Option(help: "How many approvals to ask for.")
    var count: Int = 50

    @Option(help: "Seconds to wait before the first (lets clients connect).")
    var delay: Double = 0

    func run() throws {
        if delay > 0 { usleep(UInt32(delay * 1_000_000)) }
        for i in 0..<count {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["mcli", "ask", "bench question \(i)"]
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            let line = "t=\(wallNanos()) n=\(i) status=\(p.terminationStatus)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }
}

/// Parses the `t=<ns>` stamps out of an output text.
func stamps(in text: Substring) -> [UInt64] {
    var result: [UInt64] = []
    for line in text.split(separator: "\n") where line.hasPrefix("t=") {
        let digits = line.dropFirst(2).prefix { $0.isNumber }
        if let v = UInt64(digits) { result.append(v) }
    }
    return result
}
