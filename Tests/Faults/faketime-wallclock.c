/* Preloaded before libfaketime (LD_PRELOAD=this.so:libfaketimeMT.so.1, with
   FAKETIME_DONT_FAKE_MONOTONIC=1), so that only the wall clock moves. libfaketime 0.9.10 converts
   an absolute deadline on CLOCK_MONOTONIC or CLOCK_BOOTTIME as if it were a wall-clock time:
   Dispatch's timers (timerfd_settime with TFD_TIMER_ABSTIME, which Swift's Task.sleep uses) get a
   deadline shifted by the offset and never fire (or EINVAL), and Python's time.sleep
   (clock_nanosleep with TIMER_ABSTIME on CLOCK_MONOTONIC) fails with EINVAL. Those calls go to
   libc directly here; wall-clock ones still go through libfaketime. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/timerfd.h>
#include <time.h>

static void *libc(const char *name) {
    static void *handle;
    if (handle == NULL) handle = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    return handle ? dlsym(handle, name) : NULL;
}

static int is_monotonic(clockid_t clock) {
    return clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME || clock == CLOCK_MONOTONIC_RAW;
}

#define MAX_FDS 65536
static clockid_t fd_clock[MAX_FDS]; /* the clock of each timerfd, + 1 (0: not a timerfd) */

int timerfd_create(clockid_t clock, int flags) {
    int (*real)(clockid_t, int) = (int (*)(clockid_t, int))dlsym(RTLD_NEXT, "timerfd_create");
    int fd = real(clock, flags);
    if (fd >= 0 && fd < MAX_FDS) fd_clock[fd] = clock + 1;
    return fd;
}

int timerfd_settime(int fd, int flags, const struct itimerspec *value, struct itimerspec *old) {
    typedef int (*settime)(int, int, const struct itimerspec *, struct itimerspec *);
    int monotonic = fd >= 0 && fd < MAX_FDS && fd_clock[fd] != 0 && is_monotonic(fd_clock[fd] - 1);
    settime real = (settime)(monotonic ? libc("timerfd_settime") : dlsym(RTLD_NEXT, "timerfd_settime"));
    return real(fd, flags, value, old);
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *request, struct timespec *remain) {
    typedef int (*sleeper)(clockid_t, int, const struct timespec *, struct timespec *);
    sleeper real = (sleeper)(is_monotonic(clock) ? libc("clock_nanosleep") : dlsym(RTLD_NEXT, "clock_nanosleep"));
    return real(clock, flags, request, remain);
}
