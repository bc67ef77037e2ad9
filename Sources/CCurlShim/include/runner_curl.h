#ifndef RUNNER_CURL_H
#define RUNNER_CURL_H
#include <stddef.h>

/* One HTTP request with libcurl (the CLI as a client of `runner serve`): `method` to `url` with
   the given "Name: value" header lines and body (NULL: none), waiting at most `timeout_seconds`.
   Returns 0 with the status and the reply's body (malloc'd, NUL-terminated; free() it), or -1
   with a message in `error` when no reply came. libcurl is loaded on the first request: linked,
   it and its dependencies slowed the start of every `runner` command (docs/DECISIONS.md). */
int runner_curl_request(const char *method, const char *url, const char *const *headers, size_t header_count,
                        const char *body, size_t body_length, long timeout_seconds,
                        long *status, char **reply, size_t *reply_length, char *error, size_t error_size);

/* Loads libcurl (once): NULL when it and every function the shim calls were found and it
   initialised, or why not. runner_curl_request loads it too. */
const char *runner_curl_load(void);

#endif
