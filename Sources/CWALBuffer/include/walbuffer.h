// A SQLite VFS that wraps the default one and gathers each commit's WAL
// writes into one write (see walbuffer.c).

/// Registers the "m-walbuffer" VFS beside the default one (once; later calls
/// do nothing). Returns SQLITE_OK, or SQLite's error code if it could not.
int m_walbuffer_register(void);

/// Writes SQLite asked of WAL files through the VFS so far in this process,
/// writes the wrapper made to them (what it saved is the difference), and
/// commits announced while a frame of theirs was still gathered (none are expected).
void m_walbuffer_counts(long long *asked, long long *made, long long *announcedGathered);
