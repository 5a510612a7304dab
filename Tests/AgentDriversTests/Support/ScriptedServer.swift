import Foundation
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// A scripted model API (a Python fixture) on a free loopback port: started, its `listening on` line
/// awaited (with a deadline), killed at deinit. Every request it got is in `log` (JSON lines).
final class ScriptedServer: @unchecked Sendable {
    let pid: pid_t
    let url: String
    let log: String

    init(_ fixture: String, arguments: [String] = [], logDirectory: String) async throws {
        log = logDirectory + "/requests.jsonl"
        let out = try Spawn.pipe()
        let null = open("/dev/null", O_RDWR)
        defer { close(null) }
        pid = try Spawn.start(["python3", Paths.fixture(fixture), "--port", "0", "--log", log] + arguments,
                              environment: Paths.environment(), directory: logDirectory,
                              stdio: .descriptors(null, out.write, null), group: .newGroup)
        close(out.write)
        let fd = out.read
        let line: String = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var bytes: [UInt8] = []
                var byte: UInt8 = 0
                while read(fd, &byte, 1) == 1, byte != 0x0A { bytes.append(byte) }
                close(fd)
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
        guard line.hasPrefix("listening on ") else {
            kill(-pid, SIGKILL)
            throw TestTimeout(what: "\(fixture) to listen", events: [line])
        }
        url = String(line.dropFirst("listening on ".count))
    }

    /// The requests so far, as JSON objects `{path, body}`.
    func requests() -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    deinit {
        kill(-pid, SIGKILL)
        _ = Spawn.wait(pid)
    }
}
