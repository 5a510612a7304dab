// A SQLite VFS, "m-walbuffer", that wraps the default one ("unix") and
// gathers each commit's WAL writes into one write. It is registered beside
// the default, not as it: a connection opts in with `vfs=m-walbuffer` in its
// URI (mexec's shared writer does; everything else uses SQLite's own).
//
// SQLite writes a WAL frame as two pwrite calls (its 24-byte header, then the
// page), so a commit of 40 pages costs 80 system calls, each with the
// kernel's per-call work (file lookup, locking, timestamps, one inotify event
// per watcher). Here writes that carry on from the previous one (frames being
// appended) are copied into a buffer and written with one call (one per 31
// pages of 4 KiB).
//
// Correctness rests on one rule: every frame a commit announces is in the
// file before the xWrite that completes the commit returns, so a failed write
// fails the commit. A commit frame is the one whose header gives the database
// size (SQLite's file format); SQLite writes a frame's header and then its
// page, one after the other (walWriteOneFrame), so the buffer goes out with
// the write that follows a commit frame's header. Writes that do not carry on
// from the previous one (SQLite rewriting frames of a transaction that
// spilled, and at its end their headers, the commit frame's last) are
// written through, after what was gathered. A WAL whose device does not
// promise powersafe overwrite (SQLite then pads commits to sectors, syncing
// in the middle of a frame) is written through, and so is a WAL whose
// database file is not found.
//
// What a transaction gathered and never committed (it rolled back) is dropped
// when the connection releases the WAL's write lock: by then other writers
// may append frames at the same offsets. The buffer is also written before
// anything that could need its bytes or report on them (a read, a sync, the
// file's size, a truncation, a file control, the close). Everything else is
// passed to the wrapped VFS unchanged; the files on disk are exactly what
// SQLite writes, so the `sqlite3` shell and other processes share them as usual.
#include "walbuffer.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
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
    /// WAL file: whether writes may be gathered (see the top of this file).
    int gathers;
    /// WAL file: the gathered bytes, from file offset `start`.
    unsigned char *buffer;
    sqlite3_int64 start;
    int length;
    /// WAL file: where the last write ended (-1: none yet).
    sqlite3_int64 lastEnd;
    /// WAL file: the last write was a commit frame's header; its page completes the commit.
    int commitPageNext;
    /// WAL file: a commit frame's header is among the gathered bytes.
    int holdsCommit;
};

static sqlite3_vfs *wrapped;
static sqlite3_vfs walBufferVFS;
static sqlite3_io_methods methods[4];
static pthread_mutex_t registryLock = PTHREAD_MUTEX_INITIALIZER;
static WalBufferFile *openDatabases;
static atomic_llong writesAsked, writesMade, commitsAnnouncedGathered;

static sqlite3_file *real(sqlite3_file *file) { return ((WalBufferFile *)file)->real; }

static unsigned int bigEndian32(const unsigned char *p) {
    return ((unsigned int)p[0] << 24) | ((unsigned int)p[1] << 16) | ((unsigned int)p[2] << 8) | p[3];
}

/// Writes what `p` gathered; the buffer is empty afterwards, whatever the outcome.
static int writeOut(WalBufferFile *p) {
    if (p->length == 0) return SQLITE_OK;
    int length = p->length;
    p->length = 0;
    p->holdsCommit = 0;
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

static int writeThrough(WalBufferFile *p, const void *data, int amount, sqlite3_int64 offset) {
    atomic_fetch_add_explicit(&writesMade, 1, memory_order_relaxed);
    return p->real->pMethods->xWrite(p->real, data, amount, offset);
}

static int wbWrite(sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset) {
    WalBufferFile *p = (WalBufferFile *)file;
    if (p->kind != WAL_FILE) return p->real->pMethods->xWrite(p->real, data, amount, offset);
    atomic_fetch_add_explicit(&writesAsked, 1, memory_order_relaxed);
    if (!p->gathers) return writeThrough(p, data, amount, offset);
    // Appending: this write starts where the previous one ended.
    int follows = offset == p->lastEnd;
    // The page of the commit frame whose header was the previous write: the commit's last write.
    int commitPage = follows && p->commitPageNext;
    int commitHeader = amount == FRAME_HEADER_BYTES && bigEndian32((const unsigned char *)data + 4) != 0;
    p->lastEnd = offset + amount;
    p->commitPageNext = commitHeader;
    int rc = SQLITE_OK;
    if (p->length > 0 && (!follows || p->length + amount > BUFFER_BYTES)) {
        rc = writeOut(p);
        if (rc != SQLITE_OK) return rc;
    }
    // Only an append is gathered, or the header of a frame that is not a commit frame (a
    // transaction's first frame when another connection wrote the WAL's end).
    int gather = follows || (amount == FRAME_HEADER_BYTES && !commitHeader);
    if (gather && p->buffer == NULL) p->buffer = sqlite3_malloc(BUFFER_BYTES);
    if (!gather || p->buffer == NULL || amount > BUFFER_BYTES) return writeThrough(p, data, amount, offset);
    if (p->length == 0) p->start = offset;
    memcpy(p->buffer + p->length, data, (size_t)amount);
    p->length += amount;
    p->holdsCommit |= commitHeader;
    // The commit is complete: out now, before SQLite announces it, so that a failure fails it.
    return commitPage ? writeOut(p) : SQLITE_OK;
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

/// The WAL's write lock (SQLite's WAL-index format: the first lock slot).
#define WAL_WRITE_LOCK 0

static int wbShmLock(sqlite3_file *file, int offset, int n, int flags) {
    // Releasing the write lock: every commit went out with its last write, so
    // what is still gathered belongs to a transaction that rolled back. Written
    // later, it could land on frames another connection appended meanwhile.
    WalBufferFile *wal = ((WalBufferFile *)file)->wal;
    if (wal && offset == WAL_WRITE_LOCK && (flags & SQLITE_SHM_UNLOCK)) {
        wal->length = 0;
        wal->holdsCommit = 0;
        wal->commitPageNext = 0;
    }
    return real(file)->pMethods->xShmLock(real(file), offset, n, flags);
}

/// SQLite calls this between the two copies of a new WAL-index header, among
/// other times. A commit it announces was written with its last write (the
/// rule at the top of this file), so nothing is written here; a commit frame
/// still gathered would mean SQLite wrote a commit in an order this VFS does
/// not know: it is counted (the tests expect none) and written at once, the
/// best that can be done where no error can be returned.
static void wbShmBarrier(sqlite3_file *file) {
    WalBufferFile *wal = ((WalBufferFile *)file)->wal;
    if (wal && wal->holdsCommit) {
        atomic_fetch_add_explicit(&commitsAnnouncedGathered, 1, memory_order_relaxed);
        (void)writeOut(wal);
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
        p->lastEnd = -1;
        const char *database = sqlite3_filename_database(name);
        for (WalBufferFile *db = openDatabases; db; db = db->next) {
            if (db->name == database && db->wal == NULL) {
                db->wal = p;
                p->db = db;
                break;
            }
        }
        int characteristics = p->real->pMethods->xDeviceCharacteristics(p->real);
        p->gathers = p->db != NULL && (characteristics & SQLITE_IOCAP_POWERSAFE_OVERWRITE) != 0;
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
    installResult = sqlite3_vfs_register(&walBufferVFS, 0);
}

int m_walbuffer_register(void) {
    pthread_once(&installOnce, install);
    return installResult;
}

void m_walbuffer_counts(long long *asked, long long *made, long long *announcedGathered) {
    *asked = atomic_load_explicit(&writesAsked, memory_order_relaxed);
    *made = atomic_load_explicit(&writesMade, memory_order_relaxed);
    *announcedGathered = atomic_load_explicit(&commitsAnnouncedGathered, memory_order_relaxed);
}
