#ifndef RUNNER_GIT_H
#define RUNNER_GIT_H
#include <git2.h>

/* The libgit2 functions RunnerGit calls, loaded from libgit2.so.1.5 at the first use of git
   (linked, libgit2 and its dependencies — Kerberos, mbedTLS, libssh2, PCRE — slowed the start
   of every `runner` command, most of which never touch a repository: docs/DECISIONS.md). */
#define RUNNER_GIT_FUNCTIONS(X) \
    X(git_buf_dispose) \
    X(git_checkout_options_init) \
    X(git_checkout_tree) \
    X(git_commit_free) \
    X(git_commit_lookup) \
    X(git_commit_tree) \
    X(git_config_free) \
    X(git_config_get_path) \
    X(git_error_last) \
    X(git_index_free) \
    X(git_index_new) \
    X(git_libgit2_init) \
    X(git_object_free) \
    X(git_object_id) \
    X(git_object_peel) \
    X(git_object_type) \
    X(git_object_type2string) \
    X(git_oid_fromstr) \
    X(git_oid_tostr) \
    X(git_reference_free) \
    X(git_reference_iterator_free) \
    X(git_reference_iterator_new) \
    X(git_reference_name) \
    X(git_reference_name_is_valid) \
    X(git_reference_next_name) \
    X(git_reference_peel) \
    X(git_repository_config_snapshot) \
    X(git_repository_free) \
    X(git_repository_head) \
    X(git_repository_head_detached) \
    X(git_repository_head_unborn) \
    X(git_repository_open_ext) \
    X(git_repository_path) \
    X(git_repository_workdir) \
    X(git_revparse_single) \
    X(git_tree_free)

struct runner_git_table {
#define RUNNER_GIT_FIELD(name) __typeof__(name) *name;
    RUNNER_GIT_FUNCTIONS(RUNNER_GIT_FIELD)
#undef RUNNER_GIT_FIELD
};

/* Loads libgit2 once (and initialises it); NULL when it cannot be loaded: runner_git_error()
   says why. */
const struct runner_git_table *runner_git(void);
const char *runner_git_error(void);

#endif
