#ifndef RUNNER_HTTP_H
#define RUNNER_HTTP_H
#include <stddef.h>
#include <stdint.h>

/* Why a request's framing was refused before any of its body was read (its handler is then
   expected to answer the error; the connection is closed after the answer, whatever it is). */
#define RUNNER_HTTP_FRAMING_OK 0
#define RUNNER_HTTP_FRAMING_CONFLICTING_LENGTHS 1   /* Content-Length fields that disagree */
#define RUNNER_HTTP_FRAMING_LENGTH_AND_CODING 2     /* Content-Length and Transfer-Encoding */
#define RUNNER_HTTP_FRAMING_UNSUPPORTED_CODING 3    /* a Transfer-Encoding other than one "chunked" */
#define RUNNER_HTTP_FRAMING_NUL_IN_URL 4            /* %00 (or a NUL byte) in the path or query */

/* A complete request (body read whole, up to the server's limit), handed to the handler on one
   of libmicrohttpd's threads. Pointers are valid only during the handler call. */
struct runner_http_request {
    const char *method;
    const char *url;          /* the path, without the query string */
    const char *body;         /* NUL-terminated; empty when there is none or it was too large */
    size_t body_length;
    int body_too_large;       /* the body passed max_body: nothing of it was kept */
    int framing;              /* RUNNER_HTTP_FRAMING_*: not OK means no body was read */
    void *connection;         /* for runner_http_header and runner_http_query */
};

/* One header field of a response. */
struct runner_http_header {
    const char *name;
    const char *value;
};

/* What the handler answers. `body` and `headers` are malloc'd by the handler (or NULL) and freed
   here. `headers` is one block: the array of `header_count` fields (Content-Type among them),
   followed by the strings they point to, so that one free releases it all. */
struct runner_http_response {
    unsigned int status;
    char *body;
    size_t body_length;
    struct runner_http_header *headers;
    size_t header_count;
    void *stream;             /* a runner_http_stream: the body is streamed from it (body ignored) */
};

/* A streamed body (Server-Sent Events): the handler opens one and answers with it; another
   thread writes to it and closes it. While nothing is buffered the connection is suspended
   (it costs no worker), and a write resumes it. At most `limit` bytes wait to be sent. */
typedef struct runner_http_stream runner_http_stream;
runner_http_stream *runner_http_stream_open(const struct runner_http_request *request, size_t limit);
/* Returns 0 once the client is gone, or when the write would buffer more than the stream's
   limit (stop writing, then close). */
int runner_http_stream_write(runner_http_stream *stream, const char *data, size_t length);
/* Bytes written and not yet sent; -1 once the client is gone. */
long long runner_http_stream_pending(runner_http_stream *stream);
/* The writer is done: the body ends after what was written. The handle is invalid after. */
void runner_http_stream_close(runner_http_stream *stream);

typedef void (*runner_http_handler)(void *context, const struct runner_http_request *request,
                                    struct runner_http_response *response);

struct runner_http_options {
    const char *address;                 /* IPv4 dotted quad */
    uint16_t port;                       /* 0: any free port, written to *bound_port */
    unsigned int threads;                /* the worker pool */
    size_t max_body;                     /* larger bodies are not kept (body_too_large) */
    unsigned int connection_timeout_seconds;  /* idle: reset by every byte */
    unsigned int connection_limit;       /* all clients */
    unsigned int per_client_connection_limit; /* one source address; 0: none */
    unsigned int header_timeout_ms;      /* a request's headers, whole; 0: none */
    const char *header_timeout_body;     /* the JSON answered (408) when a started request misses it */
    size_t header_timeout_body_length;
};

/* Loads libmicrohttpd (once): NULL when it and every function the shim calls were found, or
   why not. runner_http_start loads it too. */
const char *runner_http_load(void);

/* libmicrohttpd's MHD_start_daemon is variadic, which Swift cannot call: this starts a daemon
   with its own polling thread and a pool of workers. Returns the server, or NULL with a
   message in `error`. */
void *runner_http_start(const struct runner_http_options *options, runner_http_handler handler, void *context,
                        uint16_t *bound_port, char *error, size_t error_size);

/* Stops accepting, finishes what is in flight, frees the daemon. */
void runner_http_stop(void *server);

const char *runner_http_header(const struct runner_http_request *request, const char *name);
const char *runner_http_query(const struct runner_http_request *request, const char *name);

#endif
