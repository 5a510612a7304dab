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
/// Like `m_epoll_wait`, and sets `hangups[i]` (unless `hangups` is NULL) when the other side of descriptor `i` is closed (EPOLLHUP, EPOLLERR).
int m_epoll_wait_hangups(int epfd, unsigned long long *tokens, int *hangups, int max, int timeout_ms);
/// Like `m_epoll_add`, edge-triggered: reported once per new write (and at hang-up), not while data waits.
int m_epoll_add_edge(int epfd, int fd, unsigned long long token);
/// Adds `fd` for writability, edge-triggered: reported when room is made in it (a drained pipe).
int m_epoll_add_writable_edge(int epfd, int fd, unsigned long long token);

/// tee(2), non-blocking: copies up to `len` bytes from the head of pipe `in` into pipe `out` without consuming them.
long m_tee(int in, int out, unsigned long len);
/// splice(2) between two pipes, non-blocking: moves up to `len` bytes (no copy).
long m_splice_pipes(int in, int out, unsigned long len);
/// fcntl(F_SETPIPE_SZ): asks for a pipe capacity of `bytes`; returns the capacity or -1.
int m_set_pipe_size(int fd, int bytes);
/// sendmsg(2) of `len` bytes with `count` descriptors attached (SCM_RIGHTS), MSG_NOSIGNAL; bytes sent or -1.
long m_send_with_fds(int socket, const void *bytes, unsigned long len, const int *fds, int count);
/// recvmsg(2) of up to `len` bytes, taking up to `max` attached descriptors (close-on-exec) into `fds` and
/// their number into `count` (descriptors beyond `max` are closed); bytes read, 0 at end, -1 on error.
long m_recv_with_fds(int socket, void *bytes, unsigned long len, int *fds, int max, int *count);
