import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import mexec

/// Async work driven by a thread of its own runs on that thread, not on Swift's pool.
@Suite struct CallingThreadExecutorTests {
    @Test func theWorkRunsOnTheCallingThreadAcrossSuspensions() throws {
        let seen = LockedResult<[Bool]>()
        let done = LockedResult<Bool>()
        let caller = Thread {
            let me = UInt(pthread_self())
            let result = try? CallingThreadExecutor.run { () -> Int in
                var onCaller = [UInt(pthread_self()) == me]
                // Resumed from another thread, as mgit's git calls are.
                let value = await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
                    Thread.detachNewThread { continuation.resume(returning: 41) }
                }
                onCaller.append(UInt(pthread_self()) == me)
                seen.set(onCaller)
                return value + 1
            }
            if result == 42 { done.set(true) }
        }
        caller.start()
        let deadline = Date().addingTimeInterval(10)
        while done.get() == nil && Date() < deadline { usleep(1_000) }
        #expect(done.get() == true, "the work returned its value to the calling thread")
        #expect(seen.get() == [true, true], "before and after the suspension, on the calling thread")
    }

    @Test func anErrorIsThrownToTheCaller() {
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try CallingThreadExecutor.run { () async throws -> Int in throw Refused() }
        }
    }
}
