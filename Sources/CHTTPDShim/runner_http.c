#include "mhd.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* libmicrohttpd is loaded when a server starts, not when the runner starts: linked, it (with
   GnuTLS and the rest of its dependencies) slowed the start of every `runner` command
   (docs/DECISIONS.md), and only `runner serve` uses it. The functions the shim calls are the
   library's own, found with dlsym (mhd.h). */
struct runner_mhd runner_mhd;
#define RUNNER_MHD_SYMBOL(field, symbol) {#symbol, (void **)&runner_mhd.field},
static const struct runner_symbol symbols[] = {RUNNER_MHD_FUNCTIONS(RUNNER_MHD_SYMBOL)};
#undef RUNNER_MHD_SYMBOL
static const char *const sonames[] = {"libmicrohttpd.so.12"};
static struct runner_library libmicrohttpd = RUNNER_LIBRARY("libmicrohttpd", "libmicrohttpd12", sonames, symbols, NULL);

struct server {
    runner_http_handler handler;
    void *context;
    size_t max_body;
    struct MHD_Daemon *daemon;
    struct runner_guard *guard;   /* NULL: no header deadline */
};

/* One request, from its request line (libmicrohttpd's URI log callback makes it) to its end:
   the body collected across the upload callbacks, and what its framing was found to be. */
struct request {
    char *data;
    size_t length;
    int too_large;
    int headers_done;         /* the access handler has been called once */
    int framing;              /* RUNNER_HTTP_FRAMING_* */
    const char *raw_uri;      /* path and query as received, before libmicrohttpd decodes them */
    size_t raw_uri_length;
};

/* Called with the request line, before libmicrohttpd decodes the path in place into a C
   string: there, "%00" would end the path ("/api/v1/runs/ID%00x/cancel" routed as
   "/api/v1/runs/ID"), so a path with it is refused. Its return value is the request's con_cls. */
static void *request_started(void *cls, const char *uri, struct MHD_Connection *connection) {
    struct server *s = cls;
    runner_guard_request_started(s->guard, connection);
    struct request *r = calloc(1, sizeof *r);
    if (r != NULL && uri != NULL) {
        r->raw_uri = uri;
        r->raw_uri_length = strlen(uri);
        const char *nul = strstr(uri, "%00");
        const char *query = strchr(uri, '?');
        if (nul != NULL && (query == NULL || nul < query)) r->framing = RUNNER_HTTP_FRAMING_NUL_IN_URL;
    }
    return r;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* libmicrohttpd's decoding (MHD_http_unescape: %XX, a malformed escape kept as written), but
   "%00" becomes U+FFFD, the same three bytes long, so a query value is never cut short: a
   handler then sees a value that is not the prefix a proxy may have allowed, and refuses or
   ignores it as it would any other invalid value. (A path with %00 is refused before.) */
static size_t unescape(void *cls, struct MHD_Connection *connection, char *value) {
    (void)cls; (void)connection;
    char *read = value, *write = value;
    while (*read != 0) {
        int high = read[0] == '%' ? hex_digit(read[1]) : -1;
        int low = high >= 0 ? hex_digit(read[2]) : -1;
        if (low < 0) {
            *write++ = *read++;
            continue;
        }
        int byte = high * 16 + low;
        if (byte == 0) {
            *write++ = (char)0xEF;
            *write++ = (char)0xBF;
            *write++ = (char)0xBD;
        } else {
            *write++ = (char)byte;
        }
        read += 3;
    }
    *write = 0;
    return (size_t)(write - value);
}

/* A NUL byte in the request line ends libmicrohttpd's C string of the URI early (0.9.75 does
   not refuse it; 1.0 does). libmicrohttpd parses the line in place: the URI's terminator is
   the byte before the version, so anything but spaces between the string's end and the
   version is what the NUL cut off. */
static int has_nul_byte(const struct request *r, const char *version) {
    if (r->raw_uri == NULL || version == NULL || version[0] == 0) return 0;
    const char *end = r->raw_uri + r->raw_uri_length;
    if (version <= end || version - end > 64 * 1024) return 0;
    for (const char *p = end + 1; p < version - 1; p++) {
        if (*p != ' ') return 1;
    }
    return 0;
}

struct framing_fields {
    int lengths, codings, lengths_differ;
    const char *length, *coding;
};

static enum MHD_Result collect_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    struct framing_fields *f = cls;
    if (key == NULL) return MHD_YES;
    if (value == NULL) value = "";
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->lengths++ == 0) f->length = value;
        else if (strcmp(f->length, value) != 0) f->lengths_differ = 1;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        if (f->codings++ == 0) f->coding = value;
    }
    return MHD_YES;
}

/* How the body is framed must have one reading (RFC 9112 6.1, 6.3): a proxy in front that
   takes the other Content-Length, or Content-Length over Transfer-Encoding, would see the
   body end elsewhere and pass the rest on as a request of its own. libmicrohttpd takes the
   first Content-Length, lets Transfer-Encoding win, and reads a body of any other coding
   until the connection closes. */
static int framing_of(struct MHD_Connection *connection) {
    struct framing_fields f = {0, 0, 0, NULL, NULL};
    MHD_get_connection_values(connection, MHD_HEADER_KIND, collect_framing, &f);
    if (f.codings > 0 && f.lengths > 0) return RUNNER_HTTP_FRAMING_LENGTH_AND_CODING;
    if (f.codings > 1 || (f.codings == 1 && strcasecmp(f.coding, "chunked") != 0)) {
        return RUNNER_HTTP_FRAMING_UNSUPPORTED_CODING;
    }
    if (f.lengths_differ) return RUNNER_HTTP_FRAMING_CONFLICTING_LENGTHS;
    return RUNNER_HTTP_FRAMING_OK;
}

static void free_response(struct runner_http_response *r) {
    free(r->body);
    free(r->headers);
}

/* Calls the handler with the whole request and queues its answer. */
static enum MHD_Result answer(struct server *s, struct MHD_Connection *connection, const char *url, const char *method,
                              struct request *u) {
    struct runner_http_request request = {method, url, u->data ? u->data : "", u->length, u->too_large, u->framing,
                                          connection};
    struct runner_http_response response = {500, NULL, 0, NULL, 0, NULL};
    s->handler(s->context, &request, &response);
    struct MHD_Response *r;
    if (response.stream != NULL) {
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, runner_stream_reader, response.stream,
                                              runner_stream_free);
        if (r == NULL) {
            /* Never given to libmicrohttpd: release its reference ourselves. */
            runner_stream_free(response.stream);
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
    for (size_t i = 0; i < response.header_count; i++) {
        const struct runner_http_header *h = &response.headers[i];
        if (h->name && h->value) MHD_add_response_header(r, h->name, h->value);
    }
    /* Bytes after a request of doubtful framing cannot be told apart from the next request. */
    if (u->framing != RUNNER_HTTP_FRAMING_OK) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result queued = MHD_queue_response(connection, response.status, r);
    MHD_destroy_response(r);
    free_response(&response);
    return queued;
}

/* Keeps a body chunk unless the body passed max_body (then none of it is kept). */
static enum MHD_Result collect_body(struct server *s, struct request *u, const char *data, size_t size) {
    if (u->too_large) return MHD_YES;
    if (size > s->max_body || u->length > s->max_body - size) {
        u->too_large = 1;
        free(u->data);
        u->data = NULL;
        u->length = 0;
        return MHD_YES;
    }
    char *grown = realloc(u->data, u->length + size + 1);
    if (grown == NULL) return MHD_NO;
    memcpy(grown + u->length, data, size);
    u->data = grown;
    u->length += size;
    u->data[u->length] = 0;
    return MHD_YES;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                                      const char *version, const char *upload_data, size_t *upload_data_size,
                                      void **con_cls) {
    struct server *s = cls;
    struct request *u = *con_cls;
    if (u == NULL) return MHD_NO; /* out of memory when its request line came */
    if (!u->headers_done) {
        u->headers_done = 1;
        runner_guard_headers_done(s->guard, connection);
        if (u->framing == RUNNER_HTTP_FRAMING_OK && has_nul_byte(u, version)) {
            u->framing = RUNNER_HTTP_FRAMING_NUL_IN_URL;
        }
        if (u->framing == RUNNER_HTTP_FRAMING_OK) u->framing = framing_of(connection);
        /* Refused before any of the body is read. */
        if (u->framing != RUNNER_HTTP_FRAMING_OK) return answer(s, connection, url, method, u);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        enum MHD_Result kept = collect_body(s, u, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return kept;
    }
    if (u->framing != RUNNER_HTTP_FRAMING_OK) return MHD_YES; /* answered at the first call */
    return answer(s, connection, url, method, u);
}

static void completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                      enum MHD_RequestTerminationCode code) {
    (void)code;
    struct server *s = cls;
    struct request *u = *con_cls;
    if (u != NULL) {
        free(u->data);
        free(u);
        *con_cls = NULL;
    }
    runner_guard_request_done(s->guard, connection);
}

static struct MHD_Daemon *start_daemon(struct server *s, const struct runner_http_options *o,
                                       struct sockaddr_in *addr) {
    return MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, o->port, NULL, NULL,
        access_handler, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)addr,
        MHD_OPTION_THREAD_POOL_SIZE, o->threads,
        MHD_OPTION_CONNECTION_TIMEOUT, o->connection_timeout_seconds,
        MHD_OPTION_CONNECTION_LIMIT, o->connection_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_client_connection_limit,
        MHD_OPTION_URI_LOG_CALLBACK, request_started, s,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, runner_guard_notify, s->guard,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_END);
}

const char *runner_http_load(void) {
    return runner_library_open(&libmicrohttpd);
}

void *runner_http_start(const struct runner_http_options *o, runner_http_handler handler, void *context,
                        uint16_t *bound_port, char *error, size_t error_size) {
    const char *unloaded = runner_http_load();
    if (unloaded != NULL) {
        snprintf(error, error_size, "%s", unloaded);
        return NULL;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(o->port);
    if (inet_pton(AF_INET, o->address, &addr.sin_addr) != 1) {
        snprintf(error, error_size, "'%s' is not an IPv4 address", o->address);
        return NULL;
    }
    struct server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    s->handler = handler;
    s->context = context;
    s->max_body = o->max_body;
    if (o->header_timeout_ms > 0) {
        s->guard = runner_guard_start(o->header_timeout_ms, o->header_timeout_body, o->header_timeout_body_length);
        if (s->guard == NULL) {
            free(s);
            snprintf(error, error_size, "cannot start the thread that keeps the header deadline");
            return NULL;
        }
    }
    struct MHD_Daemon *d = start_daemon(s, o, &addr);
    if (d == NULL) {
        runner_guard_stop(s->guard);
        free(s);
        snprintf(error, error_size, "cannot listen on %s:%u (in use, or not an address of this machine)", o->address,
                 (unsigned)o->port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (bound_port) *bound_port = info ? info->port : o->port;
    s->daemon = d;
    return s;
}

void runner_http_stop(void *server) {
    struct server *s = server;
    if (s == NULL) return;
    MHD_stop_daemon(s->daemon);
    /* After the daemon: its connections, and their watches, are all gone now. */
    runner_guard_stop(s->guard);
    free(s);
}

const char *runner_http_header(const struct runner_http_request *request, const char *name) {
    return MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND, name);
}

const char *runner_http_query(const struct runner_http_request *request, const char *name) {
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}
