/* Preloaded before libfaketime (LD_PRELOAD=this.so:libfaketimeMT.so.1, with
   FAKETIME_DONT_FAKE_MONOTONIC=1), so that only the wall clock moves. libfaketime 0.9.10 converts
   an absolute deadline on CLOCK_MONOTONIC or CLOCK_BOOTTIME as if it were a wall-clock time (or
   as if the monotonic clock were faked too): Dispatch's timers (timerfd_settime with
   TFD_TIMER_ABSTIME, which Swift's Task.sleep uses) get a deadline shifted by the offset and
   never fire (or EINVAL), Python's time.sleep (clock_nanosleep with TIMER_ABSTIME on
   CLOCK_MONOTONIC) fails with EINVAL, and a timed wait on a condition variable made with
   CLOCK_MONOTONIC (the runner's Condition) returns at once. Those calls go to libc directly
   here; wall-clock ones still go through libfaketime. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
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

/* Condition variables made with a monotonic clock: their timed waits skip libfaketime. */
#define MAX_CONDS 4096
static pthread_cond_t *monotonic_conds[MAX_CONDS];
static pthread_mutex_t conds_lock = PTHREAD_MUTEX_INITIALIZER;

static int find_cond(pthread_cond_t *cond) {
    for (int i = 0; i < MAX_CONDS; i++) if (monotonic_conds[i] == cond) return i;
    return -1;
}

static void mark_cond(pthread_cond_t *cond, int monotonic) {
    pthread_mutex_lock(&conds_lock);
    int at = find_cond(cond);
    if (monotonic && at < 0) at = find_cond(NULL);
    if (at >= 0) monotonic_conds[at] = monotonic ? cond : NULL;
    pthread_mutex_unlock(&conds_lock);
}

int pthread_cond_init(pthread_cond_t *cond, const pthread_condattr_t *attr) {
    typedef int (*init)(pthread_cond_t *, const pthread_condattr_t *);
    clockid_t clock = CLOCK_REALTIME;
    if (attr != NULL) pthread_condattr_getclock(attr, &clock);
    mark_cond(cond, is_monotonic(clock));
    return ((init)dlvsym(RTLD_NEXT, "pthread_cond_init", "GLIBC_2.3.2"))(cond, attr);
}

int pthread_cond_destroy(pthread_cond_t *cond) {
    typedef int (*destroy)(pthread_cond_t *);
    mark_cond(cond, 0);
    return ((destroy)dlvsym(RTLD_NEXT, "pthread_cond_destroy", "GLIBC_2.3.2"))(cond);
}

int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex, const struct timespec *deadline) {
    typedef int (*waiter)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
    pthread_mutex_lock(&conds_lock);
    int monotonic = find_cond(cond) >= 0;
    pthread_mutex_unlock(&conds_lock);
    static void *handle;
    if (monotonic && handle == NULL) handle = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    waiter real = (waiter)(monotonic ? dlvsym(handle, "pthread_cond_timedwait", "GLIBC_2.3.2")
                                     : dlvsym(RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2"));
    return real(cond, mutex, deadline);
}
