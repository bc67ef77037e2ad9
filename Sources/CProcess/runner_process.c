#define _GNU_SOURCE
#include "runner_process.h"
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

/* /dev/null for every child's stdin, opened once (close-on-exec; dup2 in the child clears it). */
static int dev_null = -1;
static pthread_once_t dev_null_once = PTHREAD_ONCE_INIT;
static void open_dev_null(void) { dev_null = open("/dev/null", O_RDONLY | O_CLOEXEC); }

/* vfork, not posix_spawn: glibc's posix_spawn maps a stack for the child and unmaps it after,
   and in a process with several threads every unmap is a TLB shootdown interrupt on the other
   cores (measured: about two inter-processor interrupts a step, each one stealing time from
   the step that runs there). vfork borrows the parent's stack instead; the parent's thread
   waits until the child has called execve (or _exit), as with posix_spawn.
   What the child does is async-signal-safe only. All signals are blocked around vfork, so no
   handler of the parent's ever runs on the shared stack: the child first sets every classic
   signal to its default disposition (its signal table is its own: no CLONE_SIGHAND), which
   also undoes what the runner ignores (SIGINT, SIGPIPE), then unblocks and execs. */
int runner_spawn(char *const argv[], char *const envp[], const char *cwd, int stdout_fd, int stderr_fd, pid_t *pid) {
    sigset_t all, old, none;
    volatile int child_error = 0;
    pthread_once(&dev_null_once, open_dev_null);
    if (dev_null < 0) return errno ? errno : EBADF;
    sigfillset(&all);
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t child = vfork();
    if (child == 0) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < 32; sig++) {
            if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);
        }
        if (setpgid(0, 0) != 0 || dup2(dev_null, 0) < 0 || dup2(stdout_fd, 1) < 0 || dup2(stderr_fd, 2) < 0) {
            child_error = errno;
            _exit(127);
        }
        syscall(SYS_close_range, 3U, ~0U, 0U);
        if (cwd != NULL && chdir(cwd) != 0) {
            child_error = errno;
            _exit(127);
        }
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvpe(argv[0], argv, envp);
        child_error = errno ? errno : ENOEXEC;
        _exit(127);
    }
    int fork_error = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (child < 0) return fork_error;
    if (child_error != 0) {
        /* It never ran the program: reap it here, report why. */
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        return child_error;
    }
    *pid = child;
    return 0;
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

void runner_name_thread(const char *name) {
    pthread_setname_np(pthread_self(), name);
}
