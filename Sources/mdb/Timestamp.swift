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

    /// Parses a database timestamp (`2026-11-25T17:24:22.123Z`) into Unix seconds; nil if it is not one.
    public static func parse(_ text: String) -> Double? {
        let b = Array(text.utf8)
        guard b.count == 24, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b[19] == 0x2E,
              b[23] == 0x5A else { return nil }
        func num(_ from: Int, _ to: Int) -> Int32? {
            var v: Int32 = 0
            for i in from..<to {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int32(b[i] - 0x30)
            }
            return v
        }
        guard let year = num(0, 4), let month = num(5, 7), let day = num(8, 10), let hour = num(11, 13),
              let minute = num(14, 16), let second = num(17, 19), let ms = num(20, 23) else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Double(timegm(&parts)) + Double(ms) / 1000
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
