import Foundation

/// Runs blocking work (a long SQLite call, a directory walk) on a thread of its
/// own and awaits it, so that no thread of Swift's cooperative pool is held.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
