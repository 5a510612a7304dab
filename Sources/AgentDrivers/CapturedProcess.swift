import Foundation
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// A helper process started for an agent (an ACP terminal, the built-in agent's shell tool): its
/// merged output kept up to a byte limit (the oldest bytes dropped first, at a character boundary),
/// and its exit status. A thread of its own reads the output and then waits for the process.
public final class CapturedProcess: Sendable {
    /// How the command ended: an exit code or the name of the signal that ended it.
    public struct ExitStatus: Sendable, Equatable {
        /// The exit code, when it exited.
        public var exitCode: Int?
        /// The signal's name (`SIGKILL`), when a signal ended it.
        public var signal: String?
    }

    private struct State {
        var output: [UInt8] = []
        var truncated = false
        var exit: ExitStatus?
        var waiters: [CheckedContinuation<ExitStatus, Never>] = []
    }

    /// The process (leader of its own group).
    public let pid: pid_t
    private let limit: Int
    private let state = Locked(State())

    /// Starts reading `process`'s output, keeping at most `limit` bytes.
    public init(process: DriverProcess, limit: Int) {
        pid = process.pid
        self.limit = max(limit, 0)
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 16384)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(process.output, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                append(buffer[0..<n])
            }
            close(process.output)
            let status = Spawn.wait(process.pid)
            let exit = status.map { status in
                ExitStatus(exitCode: Spawn.exitCode(status),
                           signal: Spawn.terminatingSignal(status).map(Self.signalName))
            } ?? ExitStatus(exitCode: nil, signal: nil)
            let waiters = state.withLock { state -> [CheckedContinuation<ExitStatus, Never>] in
                state.exit = exit
                defer { state.waiters = [] }
                return state.waiters
            }
            waiters.forEach { $0.resume(returning: exit) }
        }
        thread.name = "m.captured-process"
        thread.start()
    }

    /// The output so far, whether bytes were dropped, and the exit status once it ended.
    public func snapshot() -> (output: String, truncated: Bool, exit: ExitStatus?) {
        state.withLock { (String(decoding: $0.output, as: UTF8.self), $0.truncated, $0.exit) }
    }

    /// Waits until the command ends.
    public func waitForExit() async -> ExitStatus {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> ExitStatus? in
                if state.exit == nil { state.waiters.append(continuation) }
                return state.exit
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Kills the command's whole process group (a no-op once it ended).
    public func kill() {
        if state.withLock({ $0.exit == nil }) { Glibc.kill(-pid, SIGKILL) }
    }

    private func append(_ bytes: ArraySlice<UInt8>) {
        state.withLock { state in
            state.output.append(contentsOf: bytes)
            guard state.output.count > limit else { return }
            var drop = state.output.count - limit
            // Never start on a UTF-8 continuation byte.
            while drop < state.output.count, state.output[drop] & 0xC0 == 0x80 { drop += 1 }
            state.output.removeFirst(drop)
            state.truncated = true
        }
    }

    static func signalName(_ number: Int) -> String {
        let names = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM"]
        return names[number] ?? "SIG\(number)"
    }
}
