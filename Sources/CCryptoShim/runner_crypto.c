#include "runner_crypto.h"

#include "runner_shim.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* libcrypto is loaded when the server first hashes or compares a token, not when the runner
   starts: linked, it slowed the start of every `runner` command (docs/DECISIONS.md), and only
   the HTTP API uses it. The functions below are the library's own, found with dlsym: the
   table's field for each, and its name in the library. */
#define RUNNER_CRYPTO_FUNCTIONS(X)        \
    X(digest, EVP_Digest)                 \
    X(sha256, EVP_sha256)                 \
    X(memcmp, CRYPTO_memcmp)              \
    X(rand_bytes, RAND_bytes)             \
    X(aes_256_gcm, EVP_aes_256_gcm)       \
    X(ctx_new, EVP_CIPHER_CTX_new)        \
    X(ctx_free, EVP_CIPHER_CTX_free)      \
    X(ctx_ctrl, EVP_CIPHER_CTX_ctrl)      \
    X(encrypt_init, EVP_EncryptInit_ex)   \
    X(encrypt_update, EVP_EncryptUpdate)  \
    X(encrypt_final, EVP_EncryptFinal_ex) \
    X(decrypt_init, EVP_DecryptInit_ex)   \
    X(decrypt_update, EVP_DecryptUpdate)  \
    X(decrypt_final, EVP_DecryptFinal_ex)
static struct {
    RUNNER_CRYPTO_FUNCTIONS(RUNNER_SHIM_FIELD)
} lib;
#define RUNNER_CRYPTO_SYMBOL(field, symbol) {#symbol, (void **)&lib.field},
static const struct runner_symbol symbols[] = {RUNNER_CRYPTO_FUNCTIONS(RUNNER_CRYPTO_SYMBOL)};
#undef RUNNER_CRYPTO_SYMBOL
static const char *const sonames[] = {"libcrypto.so.3"};
static struct runner_library libcrypto = RUNNER_LIBRARY("libcrypto", "libssl3", sonames, symbols, NULL);

int runner_crypto_load(void) {
    return runner_library_open(&libcrypto) == NULL;
}

const char *runner_crypto_error(void) {
    return runner_library_open(&libcrypto);
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

/* AES-256-GCM either way, with the same steps: sealing takes the tag once the last block is
   written, opening gives it before the last block is checked against it. */
static int gcm(int sealing, const unsigned char key[32], const unsigned char nonce[12], const unsigned char *aad,
               int aad_count, const unsigned char *in, int count, unsigned char *out, unsigned char tag[16]) {
    if (!runner_crypto_load()) return 0;
    __typeof__(EVP_EncryptInit_ex) *init = sealing ? lib.encrypt_init : lib.decrypt_init;
    __typeof__(EVP_EncryptUpdate) *update = sealing ? lib.encrypt_update : lib.decrypt_update;
    __typeof__(EVP_EncryptFinal_ex) *final = sealing ? lib.encrypt_final : lib.decrypt_final;
    EVP_CIPHER_CTX *ctx = lib.ctx_new();
    if (ctx == NULL) return 0;
    int n = 0, ok = init(ctx, lib.aes_256_gcm(), NULL, key, nonce) == 1
        && (aad_count == 0 || update(ctx, NULL, &n, aad, aad_count) == 1)
        && update(ctx, out, &n, in, count) == 1 && n == count
        && (sealing || lib.ctx_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1)
        && final(ctx, out + n, &n) == 1
        && (!sealing || lib.ctx_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
    lib.ctx_free(ctx);
    return ok;
}

int runner_crypto_seal(const unsigned char key[32], const unsigned char nonce[12], const unsigned char *aad, int aad_count,
                       const unsigned char *in, int count, unsigned char *out, unsigned char tag[16]) {
    return gcm(1, key, nonce, aad, aad_count, in, count, out, tag);
}

int runner_crypto_open(const unsigned char key[32], const unsigned char nonce[12], const unsigned char *aad, int aad_count,
                       const unsigned char *in, int count, const unsigned char tag[16], unsigned char *out) {
    /* Only read: EVP_CTRL_GCM_SET_TAG copies it. */
    return gcm(0, key, nonce, aad, aad_count, in, count, out, (unsigned char *)tag);
}
