import CProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The executor's end of the request bell: its link to the shared writer
/// rings it when the writer says something new waits for the run (input, a
/// cancel, a diff request), and the control loop sleeps on it.
final class RequestBell: @unchecked Sendable {
    /// Readable when rung: the control loop polls it.
    let descriptor: Int32
    private let writeEnd: Int32

    init() throws {
        var fds: [Int32] = [-1, -1]
        guard m_pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else {
            throw OutputPathError.noDescriptors(what: "the request bell's pipe", reason: String(cString: strerror(errno)))
        }
        descriptor = fds[0]
        writeEnd = fds[1]
    }

    deinit {
        close(descriptor)
        close(writeEnd)
    }

    /// Something new waits for the run.
    func ring() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Empties the pipe; true if the bell was rung since the last call.
    func takeRings() -> Bool {
        var rung = false
        var bytes = [UInt8](repeating: 0, count: 64)
        while bytes.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 { rung = true }
        return rung
    }
}
