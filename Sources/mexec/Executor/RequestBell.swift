import CProcess
import Foundation
import MProcess
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The executor's end of the request bell: the output pump rings it when the
/// shared writer says something new waits for the run (input, a cancel, a
/// diff request), and the control loop sleeps on it instead of polling the
/// database. While it is not live (no writer, or its connection was lost) the
/// control loop polls as before.
final class RequestBell: @unchecked Sendable {
    /// Readable when rung (or when the bell went silent): the control loop polls it.
    let descriptor: Int32
    private let writeEnd: Int32
    private let live = Atomic<Bool>(false)

    /// A bell that is not live yet.
    init() throws {
        var fds: [Int32] = [-1, -1]
        guard m_pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else {
            throw SpawnError(description: "cannot create the request bell's pipe: \(String(cString: strerror(errno)))")
        }
        descriptor = fds[0]
        writeEnd = fds[1]
    }

    deinit {
        close(descriptor)
        close(writeEnd)
    }

    /// True while the writer rings for this run (the control loop may sleep long).
    var isLive: Bool { live.load(ordering: .acquiring) }

    /// Something new waits for the run; the first ring also makes the bell live.
    func ring() {
        live.store(true, ordering: .releasing)
        wake()
    }

    /// The writer connection is gone: wake the control loop so it polls again.
    func silence() {
        if live.exchange(false, ordering: .acquiringAndReleasing) { wake() }
    }

    /// Empties the pipe; true if the bell was rung (or silenced) since the last call.
    func takeRings() -> Bool {
        var rung = false
        var bytes = [UInt8](repeating: 0, count: 64)
        while bytes.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 { rung = true }
        return rung
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }
}
