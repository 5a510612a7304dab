import Foundation
import Synchronization

/// Counts failed credential checks per client address; past
/// `WebDefaults.failedAuthLimit` in a window, the address gets 429 until the
/// window ends. In memory: a restart forgets, which only helps a guesser by
/// one window per restart. A request without any credential is not a guess
/// and is not counted.
final class FailedAuthLimiter: Sendable {
    private struct Window { var start: Double; var failures: Int }
    private let windows = Mutex<[String: Window]>([:])
    private let limit: Int
    private let windowSeconds: Double

    init(limit: Int = WebDefaults.failedAuthLimit, windowSeconds: Double = WebDefaults.failedAuthWindowSeconds) {
        self.limit = limit
        self.windowSeconds = windowSeconds
    }

    private static func now() -> Double { ProcessInfo.processInfo.systemUptime }

    /// Seconds until `address` may try again, or nil if it may try now.
    func retryAfter(_ address: String) -> Int? {
        let now = Self.now()
        return windows.withLock { table in
            guard let window = table[address] else { return nil }
            if now - window.start >= windowSeconds { table[address] = nil; return nil }
            return window.failures >= limit ? max(1, Int((window.start + windowSeconds - now).rounded(.up))) : nil
        }
    }

    /// Records one failed attempt from `address`.
    func recordFailure(_ address: String) {
        let now = Self.now()
        windows.withLock { table in
            if table.count > 10_000 { table = table.filter { now - $0.value.start < windowSeconds } }
            if var window = table[address], now - window.start < windowSeconds {
                window.failures += 1
                table[address] = window
            } else {
                table[address] = Window(start: now, failures: 1)
            }
        }
    }

    /// The 429 answer for an address that must wait.
    static func tooMany(retryAfter seconds: Int) -> APIError {
        APIError(.tooManyRequests, "rate_limited",
                 "too many failed attempts from this address; try again in \(seconds) s",
                 headers: [.retryAfter: String(seconds)])
    }
}
