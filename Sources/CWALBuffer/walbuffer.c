// A SQLite VFS that wraps the default one ("unix") and gathers each commit's
// WAL writes into one write.
//
// SQLite writes a WAL frame as two pwrite calls (its 24-byte header, then the
// page), so a commit of 40 pages costs 80 system calls, each with the
// kernel's per-call work (file lookup, locking, timestamps, one inotify event
// per watcher). Here the frames of a commit are copied into a buffer and
// written with one call (one per 31 pages of 4 KiB) when the commit frame (the one whose header gives the
// database size, SQLite's file format) is complete: before the commit is
// visible to anyone, and where a failed write still fails the commit.
//
// The buffer is also written before anything that could need its bytes or
// report on them (a read, a sync, the file's size, a truncation, a file
// control, the close), when a write does not follow on from it, and, as a
// safety net, when SQLite publishes a new WAL-index header (the shared-memory
// barrier of the database file of the same connection, found by the filename
// pointer SQLite hands to both opens). A WAL whose database file cannot be
// found is written through, as without this VFS. Everything else is passed
// to the wrapped VFS unchanged; the files on disk are exactly what SQLite
// writes, so the `sqlite3` shell and other processes share them as usual.
#include "walbuffer.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// The most a WAL file gathers before writing: the unix VFS's largest write
/// (it masks a write's length to 17 bits, and reports a longer one as a full
/// disk). 31 frames of 4 KiB pages; a commit of more takes a write per 31.
#define BUFFER_BYTES 0x1ffff
/// A WAL frame's header (SQLite's file format).
#define FRAME_HEADER_BYTES 24

enum FileKind { OTHER_FILE, MAIN_DB_FILE, WAL_FILE };

typedef struct WalBufferFile WalBufferFile;
struct WalBufferFile {
    sqlite3_file base;
    /// The wrapped VFS's file, stored right after this struct.
    sqlite3_file *real;
    enum FileKind kind;
    /// Main database file: the filename pointer SQLite opened it with (what its WAL's name leads back to).
    const char *name;
    /// Main database file: the WAL of the same connection, while it is open.
    WalBufferFile *wal;
    /// WAL file: the main database file of the same connection (NULL: written through).
    WalBufferFile *db;
    /// Main database files: the list of open ones.
    WalBufferFile *next;
    /// WAL file: the gathered bytes, from file offset `start`.
    unsigned char *buffer;
    sqlite3_int64 start;
    int length;
    /// WAL file: the last write was a commit frame's header; write out after its page.
    int commitPageNext;
};

static sqlite3_vfs *wrapped;
static sqlite3_vfs walBufferVFS;
static sqlite3_io_methods methods[4];
static pthread_mutex_t registryLock = PTHREAD_MUTEX_INITIALIZER;
static WalBufferFile *openDatabases;
static atomic_llong writesAsked, writesMade, writesAtBarrier;

static sqlite3_file *real(sqlite3_file *file) { return ((WalBufferFile *)file)->real; }

static unsigned int bigEndian32(const unsigned char *p) {
    return ((unsigned int)p[0] << 24) | ((unsigned int)p[1] << 16) | ((unsigned int)p[2] << 8) | p[3];
}

/// Writes what `p` gathered; the buffer is empty afterwards, whatever the outcome.
static int writeOut(WalBufferFile *p) {
    if (p->length == 0) return SQLITE_OK;
    int length = p->length;
    p->length = 0;
    atomic_fetch_add_explicit(&writesMade, 1, memory_order_relaxed);
    return p->real->pMethods->xWrite(p->real, p->buffer, length, p->start);
}

// MARK: - io methods

static int wbClose(sqlite3_file *file) {
    WalBufferFile *p = (WalBufferFile *)file;
    int rc = writeOut(p);
    pthread_mutex_lock(&registryLock);
    if (p->kind == MAIN_DB_FILE) {
        for (WalBufferFile **at = &openDatabases; *at; at = &(*at)->next) {
            if (*at == p) { *at = p->next; break; }
        }
        if (p->wal) p->wal->db = NULL;
    } else if (p->kind == WAL_FILE && p->db) {
        p->db->wal = NULL;
    }
    pthread_mutex_unlock(&registryLock);
    sqlite3_free(p->buffer);
    p->buffer = NULL;
    int closed = p->real->pMethods ? p->real->pMethods->xClose(p->real) : SQLITE_OK;
    return rc != SQLITE_OK ? rc : closed;
}

static int wbRead(sqlite3_file *file, void *out, int amount, sqlite3_int64 offset) {
    int rc = writeOut((WalBufferFile *)file);
    if (rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xRead(real(file), out, amount, offset);
}

static int wbWrite(sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset) {
    WalBufferFile *p = (WalBufferFile *)file;
    if (p->kind != WAL_FILE) return p->real->pMethods->xWrite(p->real, data, amount, offset);
    atomic_fetch_add_explicit(&writesAsked, 1, memory_order_relaxed);
    if (p->db == NULL) {
        atomic_fetch_add_explicit(&writesMade, 1, memory_order_relaxed);
        return p->real->pMethods->xWrite(p->real, data, amount, offset);
    }
    const unsigned char *bytes = data;
    // A commit frame: its header's second field (the database size after the commit) is not zero.
    int commitHeader = amount == FRAME_HEADER_BYTES && bigEndian32(bytes + 4) != 0;
    // The same in one write of header and page, should SQLite ever write a frame so.
    int pageBytes = amount - FRAME_HEADER_BYTES;
    int commitFrame = pageBytes >= 512 && pageBytes <= 65536 && (pageBytes & (pageBytes - 1)) == 0
        && bigEndian32(bytes + 4) != 0;
    int rc = SQLITE_OK;
    if (p->length > 0 && (offset != p->start + p->length || p->length + amount > BUFFER_BYTES)) {
        rc = writeOut(p);
        if (rc != SQLITE_OK) return rc;
    }
    if (p->buffer == NULL && amount <= BUFFER_BYTES) p->buffer = sqlite3_malloc(BUFFER_BYTES);
    if (p->buffer == NULL || amount > BUFFER_BYTES) {
        atomic_fetch_add_explicit(&writesMade, 1, memory_order_relaxed);
        rc = p->real->pMethods->xWrite(p->real, data, amount, offset);
    } else {
        if (p->length == 0) p->start = offset;
        memcpy(p->buffer + p->length, data, (size_t)amount);
        p->length += amount;
        // The commit's last write: out now, so that a failure fails the commit.
        if (commitFrame || (p->commitPageNext && !commitHeader)) rc = writeOut(p);
    }
    p->commitPageNext = commitHeader;
    return rc;
}

static int wbTruncate(sqlite3_file *file, sqlite3_int64 size) {
    int rc = writeOut((WalBufferFile *)file);
    if (rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xTruncate(real(file), size);
}

static int wbSync(sqlite3_file *file, int flags) {
    int rc = writeOut((WalBufferFile *)file);
    if (rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xSync(real(file), flags);
}

static int wbFileSize(sqlite3_file *file, sqlite3_int64 *size) {
    int rc = writeOut((WalBufferFile *)file);
    if (rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xFileSize(real(file), size);
}

static int wbLock(sqlite3_file *file, int lock) { return real(file)->pMethods->xLock(real(file), lock); }
static int wbUnlock(sqlite3_file *file, int lock) { return real(file)->pMethods->xUnlock(real(file), lock); }

static int wbCheckReservedLock(sqlite3_file *file, int *out) {
    return real(file)->pMethods->xCheckReservedLock(real(file), out);
}

static int wbFileControl(sqlite3_file *file, int op, void *arg) {
    int rc = writeOut((WalBufferFile *)file);
    if (rc != SQLITE_OK) return rc;
    if (op == SQLITE_FCNTL_VFSNAME) {
        int inner = real(file)->pMethods->xFileControl(real(file), op, arg);
        if (inner == SQLITE_OK) *(char **)arg = sqlite3_mprintf("m-walbuffer/%z", *(char **)arg);
        return inner;
    }
    return real(file)->pMethods->xFileControl(real(file), op, arg);
}

static int wbSectorSize(sqlite3_file *file) { return real(file)->pMethods->xSectorSize(real(file)); }

static int wbDeviceCharacteristics(sqlite3_file *file) {
    return real(file)->pMethods->xDeviceCharacteristics(real(file));
}

static int wbShmMap(sqlite3_file *file, int page, int pageSize, int extend, void volatile **out) {
    return real(file)->pMethods->xShmMap(real(file), page, pageSize, extend, out);
}

static int wbShmLock(sqlite3_file *file, int offset, int n, int flags) {
    return real(file)->pMethods->xShmLock(real(file), offset, n, flags);
}

/// SQLite calls this between the two copies of a new WAL-index header: the
/// frames it announces must be in the file by then. They are (each commit
/// writes out at its commit frame); if some are not, they go now, and a
/// failure to write them stops the process before the header can announce
/// frames that are not there (a reader then recovers the WAL from the file).
static void wbShmBarrier(sqlite3_file *file) {
    WalBufferFile *wal = ((WalBufferFile *)file)->wal;
    if (wal && wal->length > 0) atomic_fetch_add_explicit(&writesAtBarrier, 1, memory_order_relaxed);
    if (wal && wal->length > 0 && writeOut(wal) != SQLITE_OK) {
        fprintf(stderr, "m-walbuffer: cannot write the WAL frames of a commit; stopping before it is announced\n");
        abort();
    }
    real(file)->pMethods->xShmBarrier(real(file));
}

static int wbShmUnmap(sqlite3_file *file, int deleteFlag) {
    return real(file)->pMethods->xShmUnmap(real(file), deleteFlag);
}

static int wbFetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out) {
    return real(file)->pMethods->xFetch(real(file), offset, amount, out);
}

static int wbUnfetch(sqlite3_file *file, sqlite3_int64 offset, void *page) {
    return real(file)->pMethods->xUnfetch(real(file), offset, page);
}

// MARK: - vfs methods

static int wbOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *outFlags) {
    (void)vfs;
    WalBufferFile *p = (WalBufferFile *)file;
    memset(p, 0, sizeof(*p));
    p->real = (sqlite3_file *)&p[1];
    int rc = wrapped->xOpen(wrapped, name, p->real, flags, outFlags);
    if (p->real->pMethods == NULL) {
        p->base.pMethods = NULL;
        return rc;
    }
    int version = p->real->pMethods->iVersion;
    p->base.pMethods = &methods[version < 1 ? 1 : version > 3 ? 3 : version];
    if (rc != SQLITE_OK || name == NULL) return rc;
    pthread_mutex_lock(&registryLock);
    if (flags & SQLITE_OPEN_MAIN_DB) {
        p->kind = MAIN_DB_FILE;
        p->name = name;
        p->next = openDatabases;
        openDatabases = p;
    } else if (flags & SQLITE_OPEN_WAL) {
        p->kind = WAL_FILE;
        const char *database = sqlite3_filename_database(name);
        for (WalBufferFile *db = openDatabases; db; db = db->next) {
            if (db->name == database && db->wal == NULL) {
                db->wal = p;
                p->db = db;
                break;
            }
        }
    }
    pthread_mutex_unlock(&registryLock);
    return rc;
}

static int wbDelete(sqlite3_vfs *vfs, const char *name, int syncDir) {
    (void)vfs;
    return wrapped->xDelete(wrapped, name, syncDir);
}

static int wbAccess(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return wrapped->xAccess(wrapped, name, flags, out);
}

static int wbFullPathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return wrapped->xFullPathname(wrapped, name, size, out);
}

static void *wbDlOpen(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return wrapped->xDlOpen(wrapped, name);
}

static void wbDlError(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    wrapped->xDlError(wrapped, size, out);
}

static void (*wbDlSym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    (void)vfs;
    return wrapped->xDlSym(wrapped, handle, symbol);
}

static void wbDlClose(sqlite3_vfs *vfs, void *handle) {
    (void)vfs;
    wrapped->xDlClose(wrapped, handle);
}

static int wbRandomness(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return wrapped->xRandomness(wrapped, size, out);
}

static int wbSleep(sqlite3_vfs *vfs, int micros) {
    (void)vfs;
    return wrapped->xSleep(wrapped, micros);
}

static int wbCurrentTime(sqlite3_vfs *vfs, double *out) {
    (void)vfs;
    return wrapped->xCurrentTime(wrapped, out);
}

static int wbGetLastError(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return wrapped->xGetLastError ? wrapped->xGetLastError(wrapped, size, out) : 0;
}

static int wbCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    return wrapped->xCurrentTimeInt64(wrapped, out);
}

static int wbSetSystemCall(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr call) {
    (void)vfs;
    return wrapped->xSetSystemCall(wrapped, name, call);
}

static sqlite3_syscall_ptr wbGetSystemCall(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return wrapped->xGetSystemCall(wrapped, name);
}

static const char *wbNextSystemCall(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return wrapped->xNextSystemCall(wrapped, name);
}

// MARK: - installation

static pthread_once_t installOnce = PTHREAD_ONCE_INIT;
static int installResult = SQLITE_OK;

static void install(void) {
    installResult = sqlite3_initialize();
    if (installResult != SQLITE_OK) return;
    wrapped = sqlite3_vfs_find(NULL);
    if (wrapped == NULL) {
        installResult = SQLITE_ERROR;
        return;
    }
    for (int version = 1; version <= 3; version++) {
        sqlite3_io_methods *m = &methods[version];
        m->iVersion = version;
        m->xClose = wbClose;
        m->xRead = wbRead;
        m->xWrite = wbWrite;
        m->xTruncate = wbTruncate;
        m->xSync = wbSync;
        m->xFileSize = wbFileSize;
        m->xLock = wbLock;
        m->xUnlock = wbUnlock;
        m->xCheckReservedLock = wbCheckReservedLock;
        m->xFileControl = wbFileControl;
        m->xSectorSize = wbSectorSize;
        m->xDeviceCharacteristics = wbDeviceCharacteristics;
        if (version >= 2) {
            m->xShmMap = wbShmMap;
            m->xShmLock = wbShmLock;
            m->xShmBarrier = wbShmBarrier;
            m->xShmUnmap = wbShmUnmap;
        }
        if (version >= 3) {
            m->xFetch = wbFetch;
            m->xUnfetch = wbUnfetch;
        }
    }
    walBufferVFS.iVersion = wrapped->iVersion < 3 ? wrapped->iVersion : 3;
    walBufferVFS.szOsFile = (int)sizeof(WalBufferFile) + wrapped->szOsFile;
    walBufferVFS.mxPathname = wrapped->mxPathname;
    walBufferVFS.zName = "m-walbuffer";
    walBufferVFS.xOpen = wbOpen;
    walBufferVFS.xDelete = wbDelete;
    walBufferVFS.xAccess = wbAccess;
    walBufferVFS.xFullPathname = wbFullPathname;
    walBufferVFS.xDlOpen = wrapped->xDlOpen ? wbDlOpen : NULL;
    walBufferVFS.xDlError = wrapped->xDlError ? wbDlError : NULL;
    walBufferVFS.xDlSym = wrapped->xDlSym ? wbDlSym : NULL;
    walBufferVFS.xDlClose = wrapped->xDlClose ? wbDlClose : NULL;
    walBufferVFS.xRandomness = wbRandomness;
    walBufferVFS.xSleep = wbSleep;
    walBufferVFS.xCurrentTime = wbCurrentTime;
    walBufferVFS.xGetLastError = wbGetLastError;
    if (walBufferVFS.iVersion >= 2) walBufferVFS.xCurrentTimeInt64 = wbCurrentTimeInt64;
    if (walBufferVFS.iVersion >= 3) {
        walBufferVFS.xSetSystemCall = wbSetSystemCall;
        walBufferVFS.xGetSystemCall = wbGetSystemCall;
        walBufferVFS.xNextSystemCall = wbNextSystemCall;
    }
    installResult = sqlite3_vfs_register(&walBufferVFS, 1);
}

int m_walbuffer_install(void) {
    pthread_once(&installOnce, install);
    return installResult;
}

void m_walbuffer_counts(long long *asked, long long *made, long long *atBarrier) {
    *asked = atomic_load_explicit(&writesAsked, memory_order_relaxed);
    *made = atomic_load_explicit(&writesMade, memory_order_relaxed);
    *atBarrier = atomic_load_explicit(&writesAtBarrier, memory_order_relaxed);
}
