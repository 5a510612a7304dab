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

/// epoll(7), which Swift's Glibc module does not export: a close-on-exec epoll instance.
int m_epoll_create(void);
/// Adds `fd` for readability; `epoll_wait` reports it as `token`.
int m_epoll_add(int epfd, int fd, unsigned long long token);
/// Removes `fd` (before it is closed, or when it is no longer waited for).
int m_epoll_remove(int epfd, int fd);
/// Waits up to `timeout_ms` (-1: forever) and writes the tokens of up to `max` ready descriptors; returns their count.
int m_epoll_wait(int epfd, unsigned long long *tokens, int max, int timeout_ms);
