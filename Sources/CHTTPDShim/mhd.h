/* Private to the shim: libmicrohttpd's functions, found with dlsym when a server starts, and
   what the shim's files share about one server and one connection. */
#ifndef RUNNER_HTTP_MHD_H
#define RUNNER_HTTP_MHD_H
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>

#include "runner_http.h"
#include "runner_shim.h"

/* The libmicrohttpd functions the shim calls: the table's field for each, and its name in the
   library. */
#define RUNNER_MHD_FUNCTIONS(X)                                         \
    X(start_daemon, MHD_start_daemon)                                   \
    X(stop_daemon, MHD_stop_daemon)                                     \
    X(get_daemon_info, MHD_get_daemon_info)                             \
    X(get_connection_info, MHD_get_connection_info)                     \
    X(get_connection_values, MHD_get_connection_values)                 \
    X(lookup_connection_value, MHD_lookup_connection_value)             \
    X(suspend_connection, MHD_suspend_connection)                       \
    X(resume_connection, MHD_resume_connection)                         \
    X(create_response_from_callback, MHD_create_response_from_callback) \
    X(create_response_from_buffer, MHD_create_response_from_buffer)     \
    X(add_response_header, MHD_add_response_header)                     \
    X(queue_response, MHD_queue_response)                               \
    X(destroy_response, MHD_destroy_response)
struct runner_mhd {
    RUNNER_MHD_FUNCTIONS(RUNNER_SHIM_FIELD)
};
extern struct runner_mhd runner_mhd;

/* From here on the library's names call through the loaded table. */
#define MHD_start_daemon (*runner_mhd.start_daemon)
#define MHD_stop_daemon (*runner_mhd.stop_daemon)
#define MHD_get_daemon_info (*runner_mhd.get_daemon_info)
#define MHD_get_connection_info (*runner_mhd.get_connection_info)
#define MHD_get_connection_values (*runner_mhd.get_connection_values)
#define MHD_lookup_connection_value (*runner_mhd.lookup_connection_value)
#define MHD_suspend_connection (*runner_mhd.suspend_connection)
#define MHD_resume_connection (*runner_mhd.resume_connection)
#define MHD_create_response_from_callback (*runner_mhd.create_response_from_callback)
#define MHD_create_response_from_buffer (*runner_mhd.create_response_from_buffer)
#define MHD_add_response_header (*runner_mhd.add_response_header)
#define MHD_queue_response (*runner_mhd.queue_response)
#define MHD_destroy_response (*runner_mhd.destroy_response)

/* The deadline for a request's headers (runner_http_guard.c). libmicrohttpd's own connection
   timeout is an idle timeout that every byte resets, so a client trickling one header byte at
   a time holds its connection for ever; each connection here has a watch whose deadline starts
   when the connection opens or its previous response is sent and stops when the headers are
   complete. A watch past its deadline is shut down from the guard's thread. */
struct runner_watch;
struct runner_guard;

struct runner_guard *runner_guard_start(unsigned int timeout_ms, const char *reply, size_t reply_length);
void runner_guard_stop(struct runner_guard *guard);
/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback; its cls is the guard. */
void runner_guard_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                         enum MHD_ConnectionNotificationCode code);
/* The connection's headers are complete: no deadline until its response has been sent. */
void runner_guard_headers_done(struct runner_guard *guard, struct MHD_Connection *connection);
/* The connection's request line arrived (a deadline then answers 408 rather than closing). */
void runner_guard_request_started(struct runner_guard *guard, struct MHD_Connection *connection);
/* The connection's response was sent: the next request's headers have a new deadline. */
void runner_guard_request_done(struct runner_guard *guard, struct MHD_Connection *connection);

/* Streams (runner_http_stream.c): the reader libmicrohttpd calls and its release. */
ssize_t runner_stream_reader(void *cls, uint64_t pos, char *buf, size_t max);
void runner_stream_free(void *cls);

#endif
