#ifndef RUNNER_SHIM_H
#define RUNNER_SHIM_H
#include <pthread.h>
#include <stddef.h>

/* What the shims that load a C library on first use share: the library opened by SONAME, the
   functions they call found in it with dlsym, once, and every failure said in the same words.
   A shim declares its library (a `struct runner_library`) and calls runner_library_open. */

/* The number of elements of an array (not of a pointer). */
#define RUNNER_COUNT(array) (sizeof(array) / sizeof *(array))

/* A field of a shim's table of functions, typed as the library declares `symbol`: for a list
   of X(field, symbol). */
#define RUNNER_SHIM_FIELD(field, symbol) __typeof__(symbol) *field;

/* One function a shim calls: its name in the library, and where its address goes. */
struct runner_symbol {
    const char *name;
    void **slot;
};

/* A library a shim loads on first use, and whether that worked. */
struct runner_library {
    const char *name;                    /* in messages: "libcurl" */
    const char *package;                 /* the Debian package that provides it: "libcurl4" */
    const char *const *sonames;          /* tried in order */
    size_t soname_count;
    const struct runner_symbol *symbols;
    size_t symbol_count;
    const char *(*start)(void);          /* NULL, or run once the functions are found: a message
                                            when the library did not start */
    pthread_mutex_t lock;
    int done;
    char error[256];                     /* empty while nothing failed */
};

/* A library's declaration: `sonames` and `symbols` arrays (not pointers). */
#define RUNNER_LIBRARY(name, package, sonames, symbols, start)                               \
    {name, package, sonames, RUNNER_COUNT(sonames), symbols, RUNNER_COUNT(symbols), start, \
     PTHREAD_MUTEX_INITIALIZER, 0, {0}}

/* Loads `library` the first time it is called (from any thread); NULL when it is usable, or
   why not: "cannot load libcurl (install libcurl4): <dlerror>", "libcurl has no <function>",
   or what its start said. */
const char *runner_library_open(struct runner_library *library);

/* Opens the first of `sonames` (`count` of them, tried in order) that loads, RTLD_NOW |
   RTLD_LOCAL. NULL when none does: `error` then says "cannot load <name> (install
   <package>): <dlerror>". */
void *runner_dlopen_first(const char *const *sonames, size_t count, const char *name, const char *package, char *error,
                          size_t error_size);

/* Sets each symbol's slot to its address in `library` (a handle runner_dlopen_first gave).
   1 when every one is there; 0 at the first missing, `error` then saying "<name> has no
   <symbol>". */
int runner_dlsym_all(void *library, const struct runner_symbol *symbols, size_t count, const char *name, char *error,
                     size_t error_size);

#endif
