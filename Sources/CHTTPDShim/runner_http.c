#include "runner_http.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libmicrohttpd is loaded when a server starts, not when the runner starts: linked, it (with
   GnuTLS and the rest of its dependencies) cost every `runner` command about 2.5 ms of start-up
   (measured: a C program linked against it alone starts in 2.5 ms, without it in 0.6 ms), and
   only `runner serve` uses it. The functions below are the library's own, found with dlsym. */
static struct {
    __typeof__(MHD_start_daemon) *start_daemon;
    __typeof__(MHD_stop_daemon) *stop_daemon;
    __typeof__(MHD_get_daemon_info) *get_daemon_info;
    __typeof__(MHD_lookup_connection_value) *lookup_connection_value;
    __typeof__(MHD_suspend_connection) *suspend_connection;
    __typeof__(MHD_resume_connection) *resume_connection;
    __typeof__(MHD_create_response_from_callback) *create_response_from_callback;
    __typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
    __typeof__(MHD_add_response_header) *add_response_header;
    __typeof__(MHD_queue_response) *queue_response;
    __typeof__(MHD_destroy_response) *destroy_response;
} mhd;
static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static char mhd_error[256];

static void mhd_load(void) {
    void *library = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(mhd_error, sizeof mhd_error, "cannot load libmicrohttpd (install libmicrohttpd12): %s", dlerror());
        return;
    }
#define RUNNER_MHD_LOAD(field, symbol)                                                                   \
    if ((*(void **)&mhd.field = dlsym(library, symbol)) == NULL) {                                        \
        snprintf(mhd_error, sizeof mhd_error, "libmicrohttpd has no %s", symbol);                        \
        return;                                                                                          \
    }
    RUNNER_MHD_LOAD(start_daemon, "MHD_start_daemon")
    RUNNER_MHD_LOAD(stop_daemon, "MHD_stop_daemon")
    RUNNER_MHD_LOAD(get_daemon_info, "MHD_get_daemon_info")
    RUNNER_MHD_LOAD(lookup_connection_value, "MHD_lookup_connection_value")
    RUNNER_MHD_LOAD(suspend_connection, "MHD_suspend_connection")
    RUNNER_MHD_LOAD(resume_connection, "MHD_resume_connection")
    RUNNER_MHD_LOAD(create_response_from_callback, "MHD_create_response_from_callback")
    RUNNER_MHD_LOAD(create_response_from_buffer, "MHD_create_response_from_buffer")
    RUNNER_MHD_LOAD(add_response_header, "MHD_add_response_header")
    RUNNER_MHD_LOAD(queue_response, "MHD_queue_response")
    RUNNER_MHD_LOAD(destroy_response, "MHD_destroy_response")
#undef RUNNER_MHD_LOAD
}

/* From here on the library's names call through the loaded table. */
#define MHD_start_daemon (*mhd.start_daemon)
#define MHD_stop_daemon (*mhd.stop_daemon)
#define MHD_get_daemon_info (*mhd.get_daemon_info)
#define MHD_lookup_connection_value (*mhd.lookup_connection_value)
#define MHD_suspend_connection (*mhd.suspend_connection)
#define MHD_resume_connection (*mhd.resume_connection)
#define MHD_create_response_from_callback (*mhd.create_response_from_callback)
#define MHD_create_response_from_buffer (*mhd.create_response_from_buffer)
#define MHD_add_response_header (*mhd.add_response_header)
#define MHD_queue_response (*mhd.queue_response)
#define MHD_destroy_response (*mhd.destroy_response)

struct server {
    runner_http_handler handler;
    void *context;
    size_t max_body;
    struct MHD_Daemon *daemon;
};

/* One request's body, collected across libmicrohttpd's upload callbacks. */
struct upload {
    char *data;
    size_t length;
    int too_large;
};

struct runner_http_stream {
    pthread_mutex_t lock;
    char *data;
    size_t length;
    int closed;     /* the writer is done */
    int gone;       /* libmicrohttpd released the response */
    int suspended;
    int refs;       /* libmicrohttpd's and the writer's */
    struct MHD_Connection *connection;
};

static void stream_release(struct runner_http_stream *s) {
    pthread_mutex_lock(&s->lock);
    int left = --s->refs;
    pthread_mutex_unlock(&s->lock);
    if (left == 0) {
        pthread_mutex_destroy(&s->lock);
        free(s->data);
        free(s);
    }
}

runner_http_stream *runner_http_stream_open(const struct runner_http_request *request) {
    struct runner_http_stream *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    pthread_mutex_init(&s->lock, NULL);
    s->refs = 2;
    s->connection = request->connection;
    return s;
}

int runner_http_stream_write(runner_http_stream *s, const char *data, size_t length) {
    pthread_mutex_lock(&s->lock);
    if (s->gone) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    char *grown = realloc(s->data, s->length + length);
    if (grown == NULL) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    memcpy(grown + s->length, data, length);
    s->data = grown;
    s->length += length;
    int resume = s->suspended;
    s->suspended = 0;
    pthread_mutex_unlock(&s->lock);
    /* Outside our lock: the reader suspends while holding it, so this resume comes after. */
    if (resume) MHD_resume_connection(s->connection);
    return 1;
}

void runner_http_stream_close(runner_http_stream *s) {
    pthread_mutex_lock(&s->lock);
    s->closed = 1;
    int resume = s->suspended && !s->gone;
    s->suspended = 0;
    pthread_mutex_unlock(&s->lock);
    if (resume) MHD_resume_connection(s->connection);
    stream_release(s);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    struct runner_http_stream *s = cls;
    pthread_mutex_lock(&s->lock);
    if (s->length > 0) {
        size_t n = s->length < max ? s->length : max;
        memcpy(buf, s->data, n);
        memmove(s->data, s->data + n, s->length - n);
        s->length -= n;
        pthread_mutex_unlock(&s->lock);
        return (ssize_t)n;
    }
    if (s->closed) {
        pthread_mutex_unlock(&s->lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    /* Nothing yet: park the connection until a write resumes it (no busy loop, no worker held). */
    s->suspended = 1;
    MHD_suspend_connection(s->connection);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static void stream_free(void *cls) {
    struct runner_http_stream *s = cls;
    pthread_mutex_lock(&s->lock);
    s->gone = 1;
    s->suspended = 0;
    pthread_mutex_unlock(&s->lock);
    stream_release(s);
}

static void free_response(struct runner_http_response *r) {
    free(r->body);
    free(r->content_type);
    free(r->header_name);
    free(r->header_value);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                                      const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls) {
    (void)version;
    struct server *s = cls;
    struct upload *u = *con_cls;
    if (u == NULL) {
        u = calloc(1, sizeof *u);
        if (u == NULL) return MHD_NO;
        *con_cls = u;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!u->too_large) {
            if (*upload_data_size > s->max_body || u->length > s->max_body - *upload_data_size) {
                u->too_large = 1;
                free(u->data);
                u->data = NULL;
                u->length = 0;
            } else {
                char *grown = realloc(u->data, u->length + *upload_data_size + 1);
                if (grown == NULL) return MHD_NO;
                memcpy(grown + u->length, upload_data, *upload_data_size);
                u->data = grown;
                u->length += *upload_data_size;
                u->data[u->length] = 0;
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct runner_http_request request = {method, url, u->data ? u->data : "", u->length, u->too_large, connection};
    struct runner_http_response response = {500, NULL, 0, NULL, NULL, NULL};
    s->handler(s->context, &request, &response);
    struct MHD_Response *r;
    if (response.stream != NULL) {
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_reader, response.stream, stream_free);
        if (r == NULL) {
            /* Never given to libmicrohttpd: release its reference ourselves. */
            stream_free(response.stream);
        }
    } else {
        r = MHD_create_response_from_buffer(response.body_length, response.body ? response.body : "",
                                            response.body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    }
    if (r == NULL) {
        free_response(&response);
        return MHD_NO;
    }
    if (response.stream == NULL) response.body = NULL; /* now libmicrohttpd's */
    if (response.content_type) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, response.content_type);
    if (response.header_name && response.header_value) MHD_add_response_header(r, response.header_name, response.header_value);
    enum MHD_Result queued = MHD_queue_response(connection, response.status, r);
    MHD_destroy_response(r);
    free_response(&response);
    return queued;
}

static void completed(void *cls, struct MHD_Connection *connection, void **con_cls, enum MHD_RequestTerminationCode code) {
    (void)cls; (void)connection; (void)code;
    struct upload *u = *con_cls;
    if (u != NULL) {
        free(u->data);
        free(u);
        *con_cls = NULL;
    }
}

void *runner_http_start(const char *address, uint16_t port, unsigned int threads, size_t max_body,
                        unsigned int connection_timeout_seconds, unsigned int connection_limit,
                        runner_http_handler handler, void *context, uint16_t *bound_port,
                        char *error, size_t error_size) {
    pthread_once(&mhd_once, mhd_load);
    if (mhd_error[0] != 0) {
        snprintf(error, error_size, "%s", mhd_error);
        return NULL;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (inet_pton(AF_INET, address, &addr.sin_addr) != 1) {
        snprintf(error, error_size, "'%s' is not an IPv4 address", address);
        return NULL;
    }
    struct server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    s->handler = handler;
    s->context = context;
    s->max_body = max_body;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, port, NULL, NULL, access_handler, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, connection_timeout_seconds,
        MHD_OPTION_CONNECTION_LIMIT, connection_limit,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_END);
    if (d == NULL) {
        free(s);
        snprintf(error, error_size, "cannot listen on %s:%u (in use, or not an address of this machine)", address, (unsigned)port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (bound_port) *bound_port = info ? info->port : port;
    s->daemon = d;
    return s;
}

void runner_http_stop(void *server) {
    struct server *s = server;
    if (s == NULL) return;
    MHD_stop_daemon(s->daemon);
    free(s);
}

const char *runner_http_header(const struct runner_http_request *request, const char *name) {
    return MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND, name);
}

const char *runner_http_query(const struct runner_http_request *request, const char *name) {
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}
