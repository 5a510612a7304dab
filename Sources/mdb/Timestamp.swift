import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// UTC ISO-8601 timestamps with milliseconds, the one time format of the database.
public enum Timestamp {
    /// The SQL expression that yields the current time in the database's format.
    public static let sqlNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

    /// The current time formatted as `2026-11-25T17:24:22.123Z`.
    public static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return format(seconds: ts.tv_sec, milliseconds: Int(ts.tv_nsec / 1_000_000))
    }

    /// Formats a Unix time (seconds + milliseconds) in the database's format.
    public static func format(seconds: Int, milliseconds: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds), 3))Z"
    }
}
