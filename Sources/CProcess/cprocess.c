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

int m_epoll_wait_hangups(int epfd, unsigned long long *tokens, int *hangups, int max, int timeout_ms) {
    struct epoll_event events[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, events, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        tokens[i] = events[i].data.u64;
        if (hangups) hangups[i] = (events[i].events & (EPOLLHUP | EPOLLERR)) != 0;
    }
    return n;
}

int m_epoll_wait(int epfd, unsigned long long *tokens, int max, int timeout_ms) {
    return m_epoll_wait_hangups(epfd, tokens, NULL, max, timeout_ms);
}

int m_epoll_add_edge(int epfd, int fd, unsigned long long token) {
    struct epoll_event event = { .events = EPOLLIN | EPOLLET, .data.u64 = token };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int m_epoll_add_writable_edge(int epfd, int fd, unsigned long long token) {
    struct epoll_event event = { .events = EPOLLOUT | EPOLLET, .data.u64 = token };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

long m_tee(int in, int out, unsigned long len) {
    return (long)tee(in, out, len, SPLICE_F_NONBLOCK);
}

long m_splice_pipes(int in, int out, unsigned long len) {
    return (long)splice(in, NULL, out, NULL, len, SPLICE_F_NONBLOCK);
}

int m_set_pipe_size(int fd, int bytes) {
    return fcntl(fd, F_SETPIPE_SZ, bytes);
}

#include <string.h>
#include <sys/socket.h>
#define M_MAX_FDS 16
long m_send_with_fds(int socket, const void *bytes, unsigned long len, const int *fds, int count) {
    if (count < 0 || count > M_MAX_FDS) return -1;
    struct iovec part = { .iov_base = (void *)bytes, .iov_len = len };
    union { char buffer[CMSG_SPACE(sizeof(int) * M_MAX_FDS)]; struct cmsghdr align; } control;
    memset(&control, 0, sizeof(control));
    struct msghdr message = { .msg_iov = &part, .msg_iovlen = 1 };
    if (count > 0) {
        message.msg_control = control.buffer;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(header), fds, sizeof(int) * count);
    }
    return (long)sendmsg(socket, &message, MSG_NOSIGNAL);
}

long m_recv_with_fds(int socket, void *bytes, unsigned long len, int *fds, int max, int *count) {
    struct iovec part = { .iov_base = bytes, .iov_len = len };
    union { char buffer[CMSG_SPACE(sizeof(int) * M_MAX_FDS)]; struct cmsghdr align; } control;
    struct msghdr message = { .msg_iov = &part, .msg_iovlen = 1, .msg_control = control.buffer,
                              .msg_controllen = sizeof(control.buffer) };
    *count = 0;
    long n = (long)recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
    if (n < 0) return n;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
        int received = (int)((header->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *data = (int *)CMSG_DATA(header);
        for (int i = 0; i < received; i++) {
            if (*count < max) fds[(*count)++] = data[i]; else close(data[i]);
        }
    }
    return n;
}
