// posix_spawn extensions that glibc declares only under _GNU_SOURCE, which
// Swift's Glibc module does not see.
#include <spawn.h>

/// Changes the spawned process's working directory (glibc >= 2.29).
int m_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);
/// Closes every descriptor from `lowfd` up in the spawned process (glibc >= 2.34).
int m_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowfd);
/// posix_spawn's POSIX_SPAWN_SETSID flag (the child starts a new session).
short m_spawn_setsid_flag(void);
/// pipe2(2): a pipe whose ends get `flags` (O_CLOEXEC) atomically.
int m_pipe2(int fds[2], int flags);
/// pidfd_open(2) (Linux >= 5.3), close-on-exec: a descriptor that polls readable when the process exits; -1 if unsupported.
int m_pidfd_open(int pid);
#include <poll.h>
/// ppoll(2) with a timeout in microseconds (poll(2) only counts milliseconds).
int m_poll_micros(struct pollfd *fds, unsigned long count, long micros);
