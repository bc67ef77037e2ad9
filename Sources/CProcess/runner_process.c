#define _GNU_SOURCE
#include "runner_process.h"
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <stdlib.h>
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
   and in a process with several threads every unmap is a TLB shootdown on the other cores: an
   interrupt that steals time from the step running there. vfork borrows the parent's stack
   instead; the parent's thread waits until the child has called execve (or _exit), as with
   posix_spawn.
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

/* --- Starting without waiting for the exec --------------------------------------------------
   With vfork the event loop's thread sleeps until the child has called execve and must then be
   woken: on a 2-core VM running two steps, the scheduler often queued that wake-up behind the
   new step on the same core while the other core idled (about half a millisecond a launch).
   runner_spawn_detached starts the child with clone(CLONE_VM) and no CLONE_VFORK: the parent
   goes on at once. The child shares the parent's memory and thread pointer until its exec,
   so it runs on a stack of its own and does only raw system calls (no libc wrapper, which
   would write the parent thread's errno); what it reads (argv, envp, cwd) is copied into one
   block that lives until the child is reaped (runner_spawned_free). A chdir or execve that
   fails leaves its errno in the block and exits 127; the caller reads it after reaping. */
#if defined(__x86_64__) || defined(__aarch64__)
#define RUNNER_HAS_DETACHED_SPAWN 1

static inline long raw_syscall(long n, long a, long b, long c, long d) {
#if defined(__x86_64__)
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile ("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return ret;
#else
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile ("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
#endif
}
#endif

enum { spawned_stack_size = 32 << 10 };

struct runner_spawned {
    char **argv;
    char **envp;
    char *cwd;
    int stdout_fd, stderr_fd, stdin_fd;
    volatile int error;   /* written by the child when chdir or execve failed */
    /* then: the stack, the pointer arrays and the strings */
};

#ifdef RUNNER_HAS_DETACHED_SPAWN
/* The kernel's struct sigaction (not libc's): handler, flags, restorer, mask. */
struct kernel_sigaction { void *handler; unsigned long flags; void *restorer; unsigned long mask; };

static int spawned_child(void *arg) {
    struct runner_spawned *s = arg;
    struct kernel_sigaction dfl = { 0 };
    for (long sig = 1; sig < 32; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) raw_syscall(SYS_rt_sigaction, sig, (long)&dfl, 0, 8);
    }
    long r = raw_syscall(SYS_setpgid, 0, 0, 0, 0);
#ifdef SYS_dup2
    if (r == 0) r = raw_syscall(SYS_dup2, s->stdin_fd, 0, 0, 0);
    if (r >= 0) r = raw_syscall(SYS_dup2, s->stdout_fd, 1, 0, 0);
    if (r >= 0) r = raw_syscall(SYS_dup2, s->stderr_fd, 2, 0, 0);
#else
    if (r == 0) r = raw_syscall(SYS_dup3, s->stdin_fd, 0, 0, 0);
    if (r >= 0) r = s->stdout_fd == 1 ? 1 : raw_syscall(SYS_dup3, s->stdout_fd, 1, 0, 0);
    if (r >= 0) r = s->stderr_fd == 2 ? 2 : raw_syscall(SYS_dup3, s->stderr_fd, 2, 0, 0);
#endif
    if (r >= 0) {
        raw_syscall(SYS_close_range, 3, ~0U, 0, 0);
        if (s->cwd != NULL) r = raw_syscall(SYS_chdir, (long)s->cwd, 0, 0, 0);
    }
    if (r >= 0) {
        unsigned long none = 0;
        raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, 8);
        r = raw_syscall(SYS_execve, (long)s->argv[0], (long)s->argv, (long)s->envp, 0);
    }
    s->error = (int)-r;
    raw_syscall(SYS_exit, 127, 0, 0, 0);
    return 127;
}
#endif

/* One block: the record, the child's stack, the two NULL-terminated arrays, the strings. */
static struct runner_spawned *spawned_make(char *const argv[], char *const envp[], const char *cwd) {
    size_t argc = 0, envc = 0, bytes = cwd ? strlen(cwd) + 1 : 0;
    for (; argv[argc]; argc++) bytes += strlen(argv[argc]) + 1;
    for (; envp[envc]; envc++) bytes += strlen(envp[envc]) + 1;
    size_t head = (sizeof(struct runner_spawned) + 15) & ~(size_t)15;
    size_t arrays = (argc + 1 + envc + 1) * sizeof(char *);
    char *block = malloc(head + spawned_stack_size + arrays + bytes);
    if (block == NULL) return NULL;
    struct runner_spawned *s = (struct runner_spawned *)block;
    s->argv = (char **)(block + head + spawned_stack_size);
    s->envp = s->argv + argc + 1;
    char *text = (char *)(s->envp + envc + 1);
    for (size_t i = 0; i < argc; i++) { size_t n = strlen(argv[i]) + 1; memcpy(text, argv[i], n); s->argv[i] = text; text += n; }
    s->argv[argc] = NULL;
    for (size_t i = 0; i < envc; i++) { size_t n = strlen(envp[i]) + 1; memcpy(text, envp[i], n); s->envp[i] = text; text += n; }
    s->envp[envc] = NULL;
    s->cwd = NULL;
    if (cwd) { memcpy(text, cwd, strlen(cwd) + 1); s->cwd = text; }
    s->error = 0;
    return s;
}

int runner_spawn_detached(char *const argv[], char *const envp[], const char *cwd, int stdout_fd, int stderr_fd,
                          pid_t *pid, int *pidfd, struct runner_spawned **handle) {
#ifdef RUNNER_HAS_DETACHED_SPAWN
    if (argv[0] == NULL || strchr(argv[0], '/') == NULL) return ENOSYS;  /* PATH search: runner_spawn */
    pthread_once(&dev_null_once, open_dev_null);
    if (dev_null < 0) return errno ? errno : EBADF;
    struct runner_spawned *s = spawned_make(argv, envp, cwd);
    if (s == NULL) return ENOMEM;
    s->stdin_fd = dev_null;
    s->stdout_fd = stdout_fd;
    s->stderr_fd = stderr_fd;
    char *stack_top = (char *)s + ((sizeof(struct runner_spawned) + 15) & ~(size_t)15) + spawned_stack_size;
    sigset_t all, old;
    sigfillset(&all);
    /* Blocked in the child until just before its exec, where every disposition is the default:
       no handler of the parent's ever runs on the child's side. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int fd = -1;
    pid_t child = clone(spawned_child, stack_top, CLONE_VM | CLONE_PIDFD | SIGCHLD, s, &fd);
    if (child < 0 && errno == EINVAL) {  /* a kernel before 5.2: no CLONE_PIDFD */
        fd = -1;
        child = clone(spawned_child, stack_top, CLONE_VM | SIGCHLD, s);
    }
    int clone_error = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (child < 0) {
        free(s);
        return clone_error;
    }
    /* The group exists when this returns (the child makes it too; whichever is first): a
       terminate at once reaches the child even before its exec. */
    setpgid(child, child);
    *pid = child;
    *pidfd = fd;
    *handle = s;
    return 0;
#else
    (void)argv; (void)envp; (void)cwd; (void)stdout_fd; (void)stderr_fd; (void)pid; (void)pidfd; (void)handle;
    return ENOSYS;
#endif
}

int runner_spawned_error(const struct runner_spawned *s) { return s->error; }

void runner_spawned_free(struct runner_spawned *s) { free(s); }

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

void runner_release_free_memory(void) {
    malloc_trim(0);
}

void runner_name_thread(const char *name) {
    pthread_setname_np(pthread_self(), name);
}
