#define _GNU_SOURCE
#include <spawn.h>
#include "cprocess.h"

int m_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int m_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowfd) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowfd);
}

short m_spawn_setsid_flag(void) {
    return POSIX_SPAWN_SETSID;
}

#include <unistd.h>
int m_pipe2(int fds[2], int flags) {
    return pipe2(fds, flags);
}

#include <sys/syscall.h>
#include <fcntl.h>
int m_pidfd_open(int pid) {
#ifdef SYS_pidfd_open
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
#else
    (void)pid;
    return -1;
#endif
}

#include <poll.h>
#include <time.h>
int m_poll_micros(struct pollfd *fds, unsigned long count, long micros) {
    struct timespec timeout = { micros / 1000000, (micros % 1000000) * 1000 };
    return ppoll(fds, (nfds_t)count, &timeout, NULL);
}

#include <sys/epoll.h>
int m_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int m_epoll_add(int epfd, int fd, unsigned long long token) {
    struct epoll_event event = { .events = EPOLLIN, .data.u64 = token };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int m_epoll_remove(int epfd, int fd) {
    struct epoll_event event = { 0 };
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &event);
}

int m_epoll_wait(int epfd, unsigned long long *tokens, int max, int timeout_ms) {
    struct epoll_event events[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, events, max, timeout_ms);
    for (int i = 0; i < n; i++) tokens[i] = events[i].data.u64;
    return n;
}
