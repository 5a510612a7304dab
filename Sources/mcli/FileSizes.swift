import Foundation

/// Sizes of files on disk and how they are shown (gc, backup, doctor).
enum FileSizes {
    /// A file's size in bytes, 0 when it does not exist.
    static func bytes(_ path: String) -> Int64 {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
    }

    /// The database file's size plus its `-wal`'s.
    static func database(_ path: String) -> Int64 { bytes(path) + bytes(path + "-wal") }

    /// 1.2 MiB, 340 KiB, 12 B.
    static func text(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : "\(String(format: "%.1f", value)) \(units[unit])"
    }
}
