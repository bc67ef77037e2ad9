#include "runner_git.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static struct runner_git_table table;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char error[256];
static int loaded;

static void load(void) {
    void *library = dlopen("libgit2.so.1.5", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(error, sizeof error, "cannot load libgit2 (install libgit2-1.5): %s", dlerror());
        return;
    }
#define RUNNER_GIT_LOAD(name)                                                                            \
    if ((*(void **)&table.name = dlsym(library, #name)) == NULL) {                                        \
        snprintf(error, sizeof error, "libgit2 has no %s", #name);                                       \
        return;                                                                                          \
    }
    RUNNER_GIT_FUNCTIONS(RUNNER_GIT_LOAD)
#undef RUNNER_GIT_LOAD
    if (table.git_libgit2_init() < 0) {
        snprintf(error, sizeof error, "libgit2 did not initialise");
        return;
    }
    loaded = 1;
}

const struct runner_git_table *runner_git(void) {
    pthread_once(&once, load);
    return loaded ? &table : NULL;
}

const char *runner_git_error(void) {
    pthread_once(&once, load);
    return error;
}
