#include "runner_git.h"

#include "runner_shim.h"

static struct runner_git_table table;
#define RUNNER_GIT_SYMBOL(name) {#name, (void **)&table.name},
static const struct runner_symbol symbols[] = {RUNNER_GIT_FUNCTIONS(RUNNER_GIT_SYMBOL)};
#undef RUNNER_GIT_SYMBOL
static const char *const sonames[] = {"libgit2.so.1.5"};

static const char *git_start(void) {
    return table.git_libgit2_init() < 0 ? "libgit2 did not initialise" : NULL;
}

static struct runner_library libgit2 = RUNNER_LIBRARY("libgit2", "libgit2-1.5", sonames, symbols, git_start);

const struct runner_git_table *runner_git(void) {
    return runner_library_open(&libgit2) == NULL ? &table : NULL;
}

const char *runner_git_error(void) {
    const char *error = runner_library_open(&libgit2);
    return error != NULL ? error : "";
}
