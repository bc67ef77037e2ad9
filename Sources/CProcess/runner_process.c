#define _GNU_SOURCE
#include "runner_process.h"
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

int runner_spawn(char *const argv[], char *const envp[], const char *cwd, int stdout_fd, int stderr_fd, pid_t *pid) {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    sigset_t mask, defaults;
    int status;

    if ((status = posix_spawnattr_init(&attr)) != 0) return status;
    if ((status = posix_spawn_file_actions_init(&actions)) != 0) {
        posix_spawnattr_destroy(&attr);
        return status;
    }
    sigemptyset(&mask);
    sigfillset(&defaults);
    status = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (status == 0) status = posix_spawnattr_setpgroup(&attr, 0);
    if (status == 0) status = posix_spawnattr_setsigmask(&attr, &mask);
    if (status == 0) status = posix_spawnattr_setsigdefault(&attr, &defaults);
    if (status == 0) status = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (status == 0) status = posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
    if (status == 0) status = posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
    if (status == 0) status = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (status == 0 && cwd != NULL) status = posix_spawn_file_actions_addchdir_np(&actions, cwd);
    if (status == 0) status = posix_spawnp(pid, argv[0], &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return status;
}

int runner_pipe(int fds[2], int nonblocking) {
    return pipe2(fds, O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0)) == 0 ? 0 : errno;
}

int runner_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

void runner_limit_malloc_arenas(int n) {
    mallopt(M_ARENA_MAX, n);
}

void runner_release_free_memory(void) {
    malloc_trim(0);
}
