import Foundation
import MTestSupport
import Testing
import mdb
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SystemdTests {
    @Test func sdNotifyMessagesArriveOnTheNotifySocket() throws {
        let tmp = TempDir("notify")
        let path = tmp.file("notify.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let h = try MexecHarness(args: ["--heartbeat-ms", "200"], env: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"])
        try h.start()
        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !(messages.contains { $0.contains("READY=1") } && messages.contains { $0.contains("WATCHDOG=1") }) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            messages.append(String(decoding: buffer[0..<n], as: UTF8.self))
        }
        #expect(messages.contains { $0.contains("READY=1") }, "\(messages)")
        #expect(messages.contains { $0.contains("STATUS=") }, "\(messages)")
        #expect(messages.contains { $0.contains("WATCHDOG=1") }, "\(messages)")
    }
}
