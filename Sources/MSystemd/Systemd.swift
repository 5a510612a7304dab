import CSystemd
import Foundation

/// sd_notify through libsystemd: readiness, status text and watchdog pings
/// for `Type=notify` units. Without `NOTIFY_SOCKET` every call is a no-op.
public struct Systemd: Sendable {
    /// Whether a service manager listens.
    public let enabled: Bool
    /// How often to ping the watchdog (half of `WATCHDOG_USEC`), if it is on.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET` and `WATCHDOG_USEC`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        enabled = !(environment["NOTIFY_SOCKET"] ?? "").isEmpty
        if enabled, let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0 {
            watchdogInterval = .microseconds(Int64(usec / 2))
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends one or more `KEY=value` lines.
    public func notify(_ state: String) {
        guard enabled else { return }
        _ = sd_notify(0, state)
    }
}
