#ifndef RUNNER_CRYPTO_H
#define RUNNER_CRYPTO_H
#include <stddef.h>

/* libcrypto, loaded the first time one of these is called (see runner_crypto.c). Each returns
   1 on success and 0 on failure, also when the library cannot be loaded: runner_crypto_error
   then says why (NULL while nothing failed to load). */

/* SHA-256 of `count` bytes into `digest`. */
int runner_crypto_sha256(const void *data, size_t count, unsigned char digest[32]);
/* 1 when the two byte strings are equal (CRYPTO_memcmp: time independent of where they differ). */
int runner_crypto_equal(const void *a, const void *b, size_t count);
/* `count` bytes from libcrypto's CSPRNG. */
int runner_crypto_random(unsigned char *out, int count);
/* AES-256-GCM: `count` bytes of `in` sealed into `out` (as many bytes) and `tag`, under `key`
   and a 12-byte `nonce` never used twice with it; `aad` is authenticated, not encrypted. */
int runner_crypto_seal(const unsigned char key[32], const unsigned char nonce[12], const unsigned char *aad, int aad_count,
                       const unsigned char *in, int count, unsigned char *out, unsigned char tag[16]);
/* The inverse: 1 only when `tag` proves `in` and `aad` were sealed under `key` and `nonce`. */
int runner_crypto_open(const unsigned char key[32], const unsigned char nonce[12], const unsigned char *aad, int aad_count,
                       const unsigned char *in, int count, const unsigned char tag[16], unsigned char *out);
/* Loads the library now; 1 when it is usable. */
int runner_crypto_load(void);
const char *runner_crypto_error(void);

#endif
