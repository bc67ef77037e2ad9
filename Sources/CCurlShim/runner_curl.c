#include "runner_curl.h"

#include "runner_shim.h"
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libcurl's own functions, found with dlsym when the first request is made: the table's field
   for each, and its name in the library. */
#define RUNNER_CURL_FUNCTIONS(X)           \
    X(global_init, curl_global_init)       \
    X(easy_init, curl_easy_init)           \
    X(easy_setopt, curl_easy_setopt)       \
    X(easy_perform, curl_easy_perform)     \
    X(easy_getinfo, curl_easy_getinfo)     \
    X(easy_cleanup, curl_easy_cleanup)     \
    X(easy_strerror, curl_easy_strerror)   \
    X(slist_append, curl_slist_append)     \
    X(slist_free_all, curl_slist_free_all)
static struct {
    RUNNER_CURL_FUNCTIONS(RUNNER_SHIM_FIELD)
} curl;
#define RUNNER_CURL_SYMBOL(field, symbol) {#symbol, (void **)&curl.field},
static const struct runner_symbol symbols[] = {RUNNER_CURL_FUNCTIONS(RUNNER_CURL_SYMBOL)};
#undef RUNNER_CURL_SYMBOL
static const char *const sonames[] = {"libcurl.so.4"};

static const char *curl_start(void) {
    return curl.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? NULL : "libcurl did not initialise";
}

static struct runner_library libcurl = RUNNER_LIBRARY("libcurl", "libcurl4", sonames, symbols, curl_start);

struct buffer {
    char *data;
    size_t length;
    int failed;
};

static size_t collect(char *data, size_t size, size_t count, void *context) {
    struct buffer *b = context;
    size_t n = size * count;
    char *grown = realloc(b->data, b->length + n + 1);
    if (grown == NULL) {
        b->failed = 1;
        return 0;
    }
    memcpy(grown + b->length, data, n);
    b->length += n;
    grown[b->length] = 0;
    b->data = grown;
    return n;
}

const char *runner_curl_load(void) {
    return runner_library_open(&libcurl);
}

int runner_curl_request(const char *method, const char *url, const char *const *headers, size_t header_count,
                        const char *body, size_t body_length, long timeout_seconds,
                        long *status, char **reply, size_t *reply_length, char *error, size_t error_size) {
    const char *unloaded = runner_curl_load();
    if (unloaded != NULL) {
        snprintf(error, error_size, "%s", unloaded);
        return -1;
    }
    CURL *handle = curl.easy_init();
    if (handle == NULL) {
        snprintf(error, error_size, "libcurl could not make a request");
        return -1;
    }
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < header_count; i++) list = curl.slist_append(list, headers[i]);
    /* No "Expect: 100-continue" round trip before a body. */
    list = curl.slist_append(list, "Expect:");
    struct buffer b = {NULL, 0, 0};
    char message[CURL_ERROR_SIZE] = {0};
    curl.easy_setopt(handle, CURLOPT_URL, url);
    curl.easy_setopt(handle, CURLOPT_CUSTOMREQUEST, method);
    curl.easy_setopt(handle, CURLOPT_HTTPHEADER, list);
    curl.easy_setopt(handle, CURLOPT_TIMEOUT, timeout_seconds);
    curl.easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl.easy_setopt(handle, CURLOPT_ERRORBUFFER, message);
    curl.easy_setopt(handle, CURLOPT_WRITEFUNCTION, collect);
    curl.easy_setopt(handle, CURLOPT_WRITEDATA, &b);
    if (body != NULL) {
        curl.easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
        curl.easy_setopt(handle, CURLOPT_POSTFIELDS, body);
    }
    CURLcode code = curl.easy_perform(handle);
    long http = 0;
    if (code == CURLE_OK) curl.easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &http);
    curl.easy_cleanup(handle);
    curl.slist_free_all(list);
    if (code != CURLE_OK || b.failed) {
        snprintf(error, error_size, "%s", message[0] ? message : (b.failed ? "out of memory" : curl.easy_strerror(code)));
        free(b.data);
        return -1;
    }
    *status = http;
    if (b.data == NULL) b.data = calloc(1, 1);
    *reply = b.data;
    *reply_length = b.length;
    return 0;
}
