import Foundation
import mdb

/// Runs blocking work (a writer standing in for an executor) on its own
/// thread, so it never occupies the test's cooperative threads.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

/// A fast "run": `count` output events appended in small random batches, then `run.finished`.
func writeFastRun(_ db: MDatabase, runId: Int64, count: Int, textBytes: Int = 20,
                  pauseMicroseconds: UInt32 = 0) throws {
    var written = 0
    let text = String(repeating: "x", count: textBytes)
    while written < count {
        let batch = min(count - written, Int.random(in: 1...5))
        try db.append(runId: runId, (0..<batch).map { i in
            NewEvent("output", ["stream": "stdout", "text": .string("\(written + i) \(text)\n")])
        })
        written += batch
        if pauseMicroseconds > 0 { usleep(pauseMicroseconds) }
    }
    try db.finishRun(runId: runId, status: .succeeded, exitCode: 0)
}

/// Monotonic nanoseconds, comparable across threads of this process.
func nowNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Polls `condition` without blocking a thread until it holds or `timeout` passes.
func eventuallyAsync(timeout: Double = 30, _ condition: @Sendable () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
