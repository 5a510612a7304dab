import Foundation

/// Runs async work to its end on the calling thread. The task's jobs (its
/// code between suspension points) are queued to this executor and run here,
/// so a thread of its own (an agent connection, the control loop) drives
/// mgit's async git calls without handing them to Swift's cooperative pool,
/// where the SQLite writes between them would hold one of its two threads.
/// The work must not hop to an actor: it would run on the pool again.
final class CallingThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var finished = false

    private init() {}

    /// Runs `work` on this thread and returns what it returns (or throws what it throws).
    static func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let executor = CallingThreadExecutor()
        let result = LockedResult<Result<T, any Error>>()
        // Not left behind: this thread runs the task's every job until it ends.
        Task(executorPreference: executor) {
            do { result.set(.success(try await work())) } catch { result.set(.failure(error)) }
            executor.finish()
        }
        executor.runJobs()
        return try result.get()!.get()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func finish() {
        condition.lock()
        finished = true
        condition.unlock()
    }

    /// Runs jobs as they come until the task has finished.
    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty && !finished { condition.wait() }
            guard !jobs.isEmpty else {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
