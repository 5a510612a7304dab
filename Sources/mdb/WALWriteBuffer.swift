import CWALBuffer
import GRDBSQLite

/// Gathers each commit's WAL writes into one (`CWALBuffer`'s VFS). SQLite
/// writes a WAL frame as two `pwrite`s, so the shared writer's rounds of ~40
/// pages cost ~80 system calls each; with the buffer, one per 31 frames. The
/// files are unchanged. Only a connection that asks for it uses it
/// (`MDatabase(…, walWriteBuffer: true)`): nobody else commits often enough
/// to gain from it.
public enum WALWriteBuffer {
    /// The VFS's name, for a `vfs=` URI parameter.
    public static let vfsName = "m-walbuffer"

    /// Whether connections can use it: the VFS is registered (once per
    /// process) and this SQLite reads URI file names. If not, connections
    /// that asked for it use the default VFS (correct, unbuffered).
    public static var available: Bool { registered }

    private static let registered: Bool = m_walbuffer_register() == SQLITE_OK && sqlite3_compileoption_used("USE_URI") == 1

    /// A URI file name that opens `path` through the VFS.
    static func uri(_ path: String) -> String {
        var escaped = ""
        for character in path {
            switch character {
            case "%": escaped += "%25"
            case "?": escaped += "%3f"
            case "#": escaped += "%23"
            default: escaped.append(character)
            }
        }
        return "file:\(path.hasPrefix("/") ? "//" : "")\(escaped)?vfs=\(vfsName)"
    }

    /// WAL writes SQLite asked for through the VFS in this process, writes
    /// made to the files, and commits announced while a frame of theirs was
    /// still gathered (none are expected: each commit goes out with its last write).
    public static var counts: (asked: Int64, made: Int64, announcedGathered: Int64) {
        var asked: Int64 = 0, made: Int64 = 0, late: Int64 = 0
        m_walbuffer_counts(&asked, &made, &late)
        return (asked, made, late)
    }
}
