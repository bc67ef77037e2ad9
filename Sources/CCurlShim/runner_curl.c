#include "runner_curl.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libcurl's own functions, found with dlsym when the first request is made. */
static struct {
    __typeof__(curl_global_init) *global_init;
    __typeof__(curl_easy_init) *easy_init;
    __typeof__(curl_easy_setopt) *easy_setopt;
    __typeof__(curl_easy_perform) *easy_perform;
    __typeof__(curl_easy_getinfo) *easy_getinfo;
    __typeof__(curl_easy_cleanup) *easy_cleanup;
    __typeof__(curl_easy_strerror) *easy_strerror;
    __typeof__(curl_slist_append) *slist_append;
    __typeof__(curl_slist_free_all) *slist_free_all;
} curl;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static char curl_error[256];

static void curl_load(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(curl_error, sizeof curl_error, "cannot load libcurl (install libcurl4): %s", dlerror());
        return;
    }
#define RUNNER_CURL_LOAD(field, symbol)                                                                  \
    if ((*(void **)&curl.field = dlsym(library, symbol)) == NULL) {                                       \
        snprintf(curl_error, sizeof curl_error, "libcurl has no %s", symbol);                            \
        return;                                                                                          \
    }
    RUNNER_CURL_LOAD(global_init, "curl_global_init")
    RUNNER_CURL_LOAD(easy_init, "curl_easy_init")
    RUNNER_CURL_LOAD(easy_setopt, "curl_easy_setopt")
    RUNNER_CURL_LOAD(easy_perform, "curl_easy_perform")
    RUNNER_CURL_LOAD(easy_getinfo, "curl_easy_getinfo")
    RUNNER_CURL_LOAD(easy_cleanup, "curl_easy_cleanup")
    RUNNER_CURL_LOAD(easy_strerror, "curl_easy_strerror")
    RUNNER_CURL_LOAD(slist_append, "curl_slist_append")
    RUNNER_CURL_LOAD(slist_free_all, "curl_slist_free_all")
#undef RUNNER_CURL_LOAD
    if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) snprintf(curl_error, sizeof curl_error, "libcurl did not initialise");
}

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
    pthread_once(&curl_once, curl_load);
    return curl_error[0] == 0 ? NULL : curl_error;
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
