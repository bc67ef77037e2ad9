#ifndef RUNNER_PROCESS_H
#define RUNNER_PROCESS_H
#include <sys/types.h>

/* Starts `argv[0]` (searched in PATH) in a new process group of its own, in directory `cwd`,
   with `envp`, stdin from /dev/null, stdout and stderr on the given descriptors, default
   signal dispositions, an empty signal mask and no other descriptor inherited.
   Returns 0 and the pid, or an errno value (the child's, when chdir or execve failed). Built
   on vfork, which Swift cannot call (see runner_process.c for why not posix_spawn). */
int runner_spawn(char *const argv[], char *const envp[], const char *cwd, int stdout_fd, int stderr_fd, pid_t *pid);

/* Like runner_spawn, but the caller does not wait for the exec (clone(CLONE_VM) on a stack of
   the child's own; see runner_process.c). Also returns a pidfd of the child (-1 on a kernel
   without CLONE_PIDFD) and a handle that must be freed with runner_spawned_free once the child
   has been reaped, not before. A chdir or execve that failed in the child shows as its exit
   (127) and as runner_spawned_error's errno, read after reaping. Returns ENOSYS where it cannot
   be used (argv[0] without a '/', an architecture without the raw system calls): use
   runner_spawn then. */
struct runner_spawned;
int runner_spawn_detached(char *const argv[], char *const envp[], const char *cwd, int stdout_fd, int stderr_fd,
                          pid_t *pid, int *pidfd, struct runner_spawned **handle);
int runner_spawned_error(const struct runner_spawned *handle);
void runner_spawned_free(struct runner_spawned *handle);

/* pipe2 with O_CLOEXEC (and O_NONBLOCK when asked): a GNU extension. Returns 0 or errno. */
int runner_pipe(int fds[2], int nonblocking);

/* pidfd_open(2) (Linux 5.3): a descriptor that becomes readable when `pid` exits, so one poll
   loop can watch every child. Returns the descriptor (close-on-exec) or -1 with errno set. */
int runner_pidfd_open(pid_t pid);

/* malloc_trim(0): gives freed heap pages back to the system (after a large parse). */
void runner_release_free_memory(void);

/* pthread_setname_np for the calling thread (a GNU extension): names show in profilers and ps. */
void runner_name_thread(const char *name);

#endif
