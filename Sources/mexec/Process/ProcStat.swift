import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `/proc/PID/stat` says about a process: enough to recognise it again
/// (its start time) and to know whether it still runs.
struct ProcStat: Equatable {
    var pid: Int32
    var state: Character
    var pgid: Int32
    /// Field 22: clock ticks after boot at which the process started. A reused
    /// pid has a different start time, which is how M tells them apart.
    var startTicks: Int64

    /// Reads a process's stat, or nil when no such process exists.
    static func read(_ pid: Int32) -> ProcStat? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return parse(text)
    }

    /// Parses a stat line. The command name (field 2) may hold spaces and
    /// parentheses, so fields are counted from its last ')'.
    static func parse(_ text: String) -> ProcStat? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"),
              let pid = Int32(text[..<open].trimmingCharacters(in: .whitespaces)) else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // rest[0] is field 3 (state), rest[2] field 5 (pgrp), rest[19] field 22 (starttime).
        guard rest.count > 19, let state = rest[0].first, let pgid = Int32(rest[2]),
              let start = Int64(rest[19]) else { return nil }
        return ProcStat(pid: pid, state: state, pgid: pgid, startTicks: start)
    }

    /// Whether the process is gone for practical purposes (absent or a zombie).
    static func isGone(_ pid: Int32) -> Bool {
        guard let stat = read(pid) else { return true }
        return stat.state == "Z" || stat.state == "X"
    }

    /// Live (non-zombie) processes whose process group is `pgid`.
    static func members(ofGroup pgid: Int32) -> [ProcStat] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { Int32($0) }.compactMap { read($0) }
            .filter { $0.pgid == pgid && $0.state != "Z" && $0.state != "X" }
    }
}
