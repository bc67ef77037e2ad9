#ifndef RUNNER_HTTP_H
#define RUNNER_HTTP_H
#include <stddef.h>
#include <stdint.h>

/* A complete request (body read whole, up to the server's limit), handed to the handler on one
   of libmicrohttpd's threads. Pointers are valid only during the handler call. */
struct runner_http_request {
    const char *method;
    const char *url;          /* the path, without the query string */
    const char *body;         /* NUL-terminated; empty when there is none or it was too large */
    size_t body_length;
    int body_too_large;       /* the body passed max_body: nothing of it was kept */
    void *connection;         /* for runner_http_header and runner_http_query */
};

/* What the handler answers. Every pointer is malloc'd by the handler (or NULL) and freed here. */
struct runner_http_response {
    unsigned int status;
    char *body;
    size_t body_length;
    char *content_type;
    char *header_name;        /* one extra header (e.g. Retry-After), or NULL */
    char *header_value;
    void *stream;             /* a runner_http_stream: the body is streamed from it (body ignored) */
};

/* A streamed body (Server-Sent Events): the handler opens one and answers with it; another
   thread writes to it and closes it. While nothing is buffered the connection is suspended
   (it costs no worker), and a write resumes it. */
typedef struct runner_http_stream runner_http_stream;
runner_http_stream *runner_http_stream_open(const struct runner_http_request *request);
/* Returns 0 once the client is gone (stop writing, then close). */
int runner_http_stream_write(runner_http_stream *stream, const char *data, size_t length);
/* The writer is done: the body ends after what was written. The handle is invalid after. */
void runner_http_stream_close(runner_http_stream *stream);

typedef void (*runner_http_handler)(void *context, const struct runner_http_request *request,
                                    struct runner_http_response *response);

/* libmicrohttpd's MHD_start_daemon is variadic, which Swift cannot call: this starts a daemon
   on `address` (IPv4 dotted quad) and `port` (0: any free port, written to *bound_port) with
   its own polling thread and a pool of `threads`, per-connection timeouts, a connection limit
   and bodies bounded by `max_body`. Returns the daemon, or NULL with a message in `error`. */
void *runner_http_start(const char *address, uint16_t port, unsigned int threads, size_t max_body,
                        unsigned int connection_timeout_seconds, unsigned int connection_limit,
                        runner_http_handler handler, void *context, uint16_t *bound_port,
                        char *error, size_t error_size);

/* Stops accepting, finishes what is in flight, frees the daemon. */
void runner_http_stop(void *daemon);

const char *runner_http_header(const struct runner_http_request *request, const char *name);
const char *runner_http_query(const struct runner_http_request *request, const char *name);

#endif
