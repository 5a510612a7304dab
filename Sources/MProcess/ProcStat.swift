import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `/proc/PID/stat` says about a process: enough to recognise it again
/// (its start time), to know whether it still runs, whose child it is, and
/// how much CPU it has used.
public struct ProcStat: Equatable, Sendable {
    /// Field 1.
    public var pid: Int32
    /// Field 3: R, S, D, Z (zombie), X (dead), …
    public var state: Character
    /// Field 4: the parent's pid.
    public var ppid: Int32
    /// Field 5: the process group.
    public var pgid: Int32
    /// Fields 14 + 15: user and system CPU time, in clock ticks.
    public var cpuTicks: Int64
    /// Field 22: clock ticks after boot at which the process started. A reused
    /// pid has a different start time, which is how M tells them apart.
    public var startTicks: Int64

    /// A stat as read (tests build them to compare).
    public init(pid: Int32, state: Character, ppid: Int32, pgid: Int32, cpuTicks: Int64, startTicks: Int64) {
        self.pid = pid
        self.state = state
        self.ppid = ppid
        self.pgid = pgid
        self.cpuTicks = cpuTicks
        self.startTicks = startTicks
    }

    /// CPU time used so far, in seconds.
    public var cpuSeconds: Double { Double(cpuTicks) / Double(sysconf(Int32(_SC_CLK_TCK))) }

    /// Whether the process has ended (a zombie waiting to be reaped counts as ended).
    public var hasEnded: Bool { state == "Z" || state == "X" }

    /// Reads a process's stat, or nil when no such process exists.
    public static func read(_ pid: Int32) -> ProcStat? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return parse(text)
    }

    /// Parses a stat line. The command name (field 2) may hold spaces and
    /// parentheses, so fields are counted from its last ')'.
    public static func parse(_ text: String) -> ProcStat? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"),
              let pid = Int32(text[..<open].trimmingCharacters(in: .whitespaces)) else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // rest[k] is field k + 3: state 3, ppid 4, pgrp 5, utime 14, stime 15, starttime 22.
        guard rest.count > 19, let state = rest[0].first, let ppid = Int32(rest[1]), let pgid = Int32(rest[2]),
              let user = Int64(rest[11]), let system = Int64(rest[12]), let start = Int64(rest[19]) else { return nil }
        return ProcStat(pid: pid, state: state, ppid: ppid, pgid: pgid, cpuTicks: user + system, startTicks: start)
    }

    /// Whether the process is gone for practical purposes (absent or a zombie).
    public static func isGone(_ pid: Int32) -> Bool {
        read(pid)?.hasEnded ?? true
    }

    /// Every process this user can see in `/proc`.
    public static func all() -> [ProcStat] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { Int32($0) }.compactMap { read($0) }
    }

    /// Live (non-zombie) processes whose process group is `pgid`.
    public static func members(ofGroup pgid: Int32) -> [ProcStat] {
        all().filter { $0.pgid == pgid && !$0.hasEnded }
    }

    /// A process and all its live descendants, the root first; empty when the root is gone.
    public static func tree(of root: Int32) -> [ProcStat] {
        let everyone = all()
        guard let top = everyone.first(where: { $0.pid == root }) else { return [] }
        var tree = [top]
        var index = 0
        while index < tree.count {
            let parent = tree[index].pid
            tree += everyone.filter { $0.ppid == parent && !$0.hasEnded }
            index += 1
        }
        return tree
    }
}
