#include "runner_shim.h"

#include <dlfcn.h>
#include <stdio.h>

void *runner_dlopen_first(const char *const *sonames, size_t count, const char *name, const char *package, char *error,
                          size_t error_size) {
    for (size_t i = 0; i < count; i++) {
        void *library = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
        if (library != NULL) return library;
    }
    const char *reason = dlerror();
    snprintf(error, error_size, "cannot load %s (install %s): %s", name, package,
             reason != NULL ? reason : "no SONAME to try");
    return NULL;
}

int runner_dlsym_all(void *library, const struct runner_symbol *symbols, size_t count, const char *name, char *error,
                     size_t error_size) {
    for (size_t i = 0; i < count; i++) {
        if ((*symbols[i].slot = dlsym(library, symbols[i].name)) == NULL) {
            snprintf(error, error_size, "%s has no %s", name, symbols[i].name);
            return 0;
        }
    }
    return 1;
}

static void load(struct runner_library *l) {
    void *handle = runner_dlopen_first(l->sonames, l->soname_count, l->name, l->package, l->error, sizeof l->error);
    if (handle == NULL || !runner_dlsym_all(handle, l->symbols, l->symbol_count, l->name, l->error, sizeof l->error)) {
        return;
    }
    const char *failed = l->start != NULL ? l->start() : NULL;
    if (failed != NULL) snprintf(l->error, sizeof l->error, "%s", failed);
}

const char *runner_library_open(struct runner_library *l) {
    /* Once loaded (or not), every call after is one atomic read: the crypto shim asks at each hash. */
    if (!__atomic_load_n(&l->done, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&l->lock);
        if (!l->done) {
            load(l);
            __atomic_store_n(&l->done, 1, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&l->lock);
    }
    return l->error[0] != 0 ? l->error : NULL;
}
