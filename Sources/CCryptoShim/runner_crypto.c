#include "runner_crypto.h"

#include <dlfcn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>

/* libcrypto is loaded when the server first hashes or compares a token, not when the runner
   starts: linked, it cost every `runner` command about 0.8 ms of start-up (a C program linked
   against it alone starts in 1.3 ms, without it in 0.5 ms), and only the HTTP API uses it. The
   functions below are the library's own, found with dlsym. */
static struct {
    __typeof__(EVP_Digest) *digest;
    __typeof__(EVP_sha256) *sha256;
    __typeof__(CRYPTO_memcmp) *memcmp;
    __typeof__(RAND_bytes) *rand_bytes;
} lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static char lib_error[256];

static void lib_load(void) {
    void *library = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(lib_error, sizeof lib_error, "cannot load libcrypto (install libssl3): %s", dlerror());
        return;
    }
#define RUNNER_CRYPTO_LOAD(field, symbol)                                            \
    if ((*(void **)&lib.field = dlsym(library, symbol)) == NULL) {                    \
        snprintf(lib_error, sizeof lib_error, "libcrypto has no %s", symbol);        \
        return;                                                                      \
    }
    RUNNER_CRYPTO_LOAD(digest, "EVP_Digest")
    RUNNER_CRYPTO_LOAD(sha256, "EVP_sha256")
    RUNNER_CRYPTO_LOAD(memcmp, "CRYPTO_memcmp")
    RUNNER_CRYPTO_LOAD(rand_bytes, "RAND_bytes")
#undef RUNNER_CRYPTO_LOAD
}

int runner_crypto_load(void) {
    pthread_once(&lib_once, lib_load);
    return lib_error[0] == 0;
}

const char *runner_crypto_error(void) {
    pthread_once(&lib_once, lib_load);
    return lib_error[0] == 0 ? NULL : lib_error;
}

int runner_crypto_sha256(const void *data, size_t count, unsigned char digest[32]) {
    if (!runner_crypto_load()) return 0;
    unsigned int length = 0;
    return lib.digest(data, count, digest, &length, lib.sha256(), NULL) == 1 && length == 32;
}

int runner_crypto_equal(const void *a, const void *b, size_t count) {
    if (!runner_crypto_load()) return 0;
    return lib.memcmp(a, b, count) == 0;
}

int runner_crypto_random(unsigned char *out, int count) {
    if (!runner_crypto_load()) return 0;
    return lib.rand_bytes(out, count) == 1;
}
