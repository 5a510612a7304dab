// A SQLite VFS that wraps the default one and gathers each commit's WAL
// writes into one write (see walbuffer.c).

/// Registers the "m-walbuffer" VFS as the process's default (once; later calls
/// do nothing). Returns SQLITE_OK, or SQLite's error code if it could not.
int m_walbuffer_install(void);

/// Writes SQLite asked of WAL files so far in this process, writes the
/// wrapper made to them (what it saved is the difference), and how many of
/// those the safety net made (a commit whose end was not recognised).
void m_walbuffer_counts(long long *asked, long long *made, long long *atBarrier);
