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
