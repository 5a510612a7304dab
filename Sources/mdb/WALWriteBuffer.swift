import CWALBuffer

/// Gathers each commit's WAL writes into one (`CWALBuffer`'s VFS, made the
/// process's default before the first connection opens). SQLite writes a WAL
/// frame as two `pwrite`s, so the shared writer's rounds of ~40 pages cost
/// ~80 system calls each; with the buffer, one per 31 frames. The files are
/// unchanged.
public enum WALWriteBuffer {
    /// Installs the VFS once per process; later calls do nothing. If SQLite
    /// refuses it, connections use the default VFS as before (correct, unbuffered).
    public static func install() {
        _ = installed
    }

    private static let installed: Int32 = m_walbuffer_install()

    /// WAL writes SQLite asked for in this process, writes made to the files,
    /// and those of them made only when a commit was announced (its end was
    /// not recognised; none are expected).
    public static var counts: (asked: Int64, made: Int64, atAnnouncement: Int64) {
        var asked: Int64 = 0, made: Int64 = 0, late: Int64 = 0
        m_walbuffer_counts(&asked, &made, &late)
        return (asked, made, late)
    }
}
