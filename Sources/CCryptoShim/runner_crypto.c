#include "runner_crypto.h"

#include <dlfcn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>

/* libcrypto is loaded when the server first hashes or compares a token, not when the runner
   starts: linked, it slowed the start of every `runner` command (docs/DECISIONS.md), and only
   the HTTP API uses it. The functions below are the library's own, found with dlsym. */
static struct {
    __typeof__(EVP_Digest) *digest;
    __typeof__(EVP_sha256) *sha256;
    __typeof__(CRYPTO_memcmp) *memcmp;
    __typeof__(RAND_bytes) *rand_bytes;
    __typeof__(EVP_aes_256_gcm) *aes_256_gcm;
    __typeof__(EVP_CIPHER_CTX_new) *ctx_new;
    __typeof__(EVP_CIPHER_CTX_free) *ctx_free;
    __typeof__(EVP_CIPHER_CTX_ctrl) *ctx_ctrl;
    __typeof__(EVP_EncryptInit_ex) *encrypt_init;
    __typeof__(EVP_EncryptUpdate) *encrypt_update;
    __typeof__(EVP_EncryptFinal_ex) *encrypt_final;
    __typeof__(EVP_DecryptInit_ex) *decrypt_init;
    __typeof__(EVP_DecryptUpdate) *decrypt_update;
    __typeof__(EVP_DecryptFinal_ex) *decrypt_final;
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
    RUNNER_CRYPTO_LOAD(aes_256_gcm, "EVP_aes_256_gcm")
    RUNNER_CRYPTO_LOAD(ctx_new, "EVP_CIPHER_CTX_new")
    RUNNER_CRYPTO_LOAD(ctx_free, "EVP_CIPHER_CTX_free")
    RUNNER_CRYPTO_LOAD(ctx_ctrl, "EVP_CIPHER_CTX_ctrl")
    RUNNER_CRYPTO_LOAD(encrypt_init, "EVP_EncryptInit_ex")
    RUNNER_CRYPTO_LOAD(encrypt_update, "EVP_EncryptUpdate")
    RUNNER_CRYPTO_LOAD(encrypt_final, "EVP_EncryptFinal_ex")
    RUNNER_CRYPTO_LOAD(decrypt_init, "EVP_DecryptInit_ex")
    RUNNER_CRYPTO_LOAD(decrypt_update, "EVP_DecryptUpdate")
    RUNNER_CRYPTO_LOAD(decrypt_final, "EVP_DecryptFinal_ex")
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

int runner_crypto_seal(const unsigned char key[32], const unsigned char nonce[12], const unsigned char *aad, int aad_count,
                       const unsigned char *in, int count, unsigned char *out, unsigned char tag[16]) {
    if (!runner_crypto_load()) return 0;
    EVP_CIPHER_CTX *ctx = lib.ctx_new();
    if (ctx == NULL) return 0;
    int n = 0, ok = lib.encrypt_init(ctx, lib.aes_256_gcm(), NULL, key, nonce) == 1
        && (aad_count == 0 || lib.encrypt_update(ctx, NULL, &n, aad, aad_count) == 1)
        && lib.encrypt_update(ctx, out, &n, in, count) == 1 && n == count
        && lib.encrypt_final(ctx, out + n, &n) == 1
        && lib.ctx_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    lib.ctx_free(ctx);
    return ok;
}

int runner_crypto_open(const unsigned char key[32], const unsigned char nonce[12], const unsigned char *aad, int aad_count,
                       const unsigned char *in, int count, const unsigned char tag[16], unsigned char *out) {
    if (!runner_crypto_load()) return 0;
    EVP_CIPHER_CTX *ctx = lib.ctx_new();
    if (ctx == NULL) return 0;
    int n = 0, ok = lib.decrypt_init(ctx, lib.aes_256_gcm(), NULL, key, nonce) == 1
        && (aad_count == 0 || lib.decrypt_update(ctx, NULL, &n, aad, aad_count) == 1)
        && lib.decrypt_update(ctx, out, &n, in, count) == 1 && n == count
        && lib.ctx_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) == 1
        && lib.decrypt_final(ctx, out + n, &n) == 1;
    lib.ctx_free(ctx);
    return ok;
}
