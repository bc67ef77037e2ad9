#include "mhd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* One connection's watch. Its deadline is set while the connection waits for a request's
   headers (from when it opens, or from when its previous response was sent) and cleared
   once they are complete; the guard's thread shuts down the socket of a watch past it. */
struct runner_watch {
    struct runner_watch *prev, *next;
    int fd;
    uint64_t deadline_ms;     /* 0: not waiting for headers */
    int request_started;      /* the request line of the awaited request arrived */
};

struct runner_guard {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int stopping;
    int sleeping_without_deadline;
    struct runner_watch *watches;
    unsigned int timeout_ms;
    char *reply;              /* the whole 408 response sent to a request started too slowly */
    size_t reply_length;
};

static uint64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* The thread is woken only when it sleeps without a deadline: every deadline is set to "now
   + timeout", so a new one is never earlier than those it already waits for. */
static void set_deadline(struct runner_guard *g, struct runner_watch *w) {
    w->deadline_ms = now_ms() + g->timeout_ms;
    w->request_started = 0;
    if (g->sleeping_without_deadline) pthread_cond_signal(&g->wake);
}

/* Ends the watches past their deadline; returns the earliest deadline still ahead (0: none).
   Called with the lock held, so a watch's socket is still open: libmicrohttpd closes it
   only after the CLOSED notification, which takes the lock to remove the watch. */
static uint64_t expire(struct runner_guard *g, uint64_t now) {
    uint64_t next = 0;
    for (struct runner_watch *w = g->watches; w != NULL; w = w->next) {
        if (w->deadline_ms == 0) continue;
        if (w->deadline_ms > now) {
            if (next == 0 || w->deadline_ms < next) next = w->deadline_ms;
            continue;
        }
        /* Nothing of a response is being sent on this socket (its request is not complete),
           so writing the 408 here cannot interleave with libmicrohttpd's own writes. */
        if (w->request_started && g->reply != NULL) send(w->fd, g->reply, g->reply_length, MSG_DONTWAIT | MSG_NOSIGNAL);
        shutdown(w->fd, SHUT_RDWR);
        w->deadline_ms = 0;
    }
    return next;
}

static void *guard_thread(void *cls) {
    struct runner_guard *g = cls;
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        uint64_t next = expire(g, now_ms());
        g->sleeping_without_deadline = next == 0;
        if (next == 0) {
            pthread_cond_wait(&g->wake, &g->lock);
        } else {
            struct timespec until = {(time_t)(next / 1000), (long)(next % 1000) * 1000000};
            pthread_cond_timedwait(&g->wake, &g->lock, &until);
        }
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

static char *make_reply(const char *body, size_t length, size_t *reply_length) {
    static const char head[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                               "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n";
    char header[sizeof head + 32];
    int n = snprintf(header, sizeof header, head, length);
    char *reply = malloc((size_t)n + length);
    if (reply == NULL) return NULL;
    memcpy(reply, header, (size_t)n);
    if (length > 0) memcpy(reply + n, body, length);
    *reply_length = (size_t)n + length;
    return reply;
}

struct runner_guard *runner_guard_start(unsigned int timeout_ms, const char *body, size_t body_length) {
    struct runner_guard *g = calloc(1, sizeof *g);
    if (g == NULL) return NULL;
    g->timeout_ms = timeout_ms;
    g->reply = make_reply(body, body_length, &g->reply_length);
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&g->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    if (pthread_create(&g->thread, NULL, guard_thread, g) != 0) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        free(g->reply);
        free(g);
        return NULL;
    }
    return g;
}

/* After the daemon stopped: every connection, and so every watch, is gone. */
void runner_guard_stop(struct runner_guard *g) {
    if (g == NULL) return;
    pthread_mutex_lock(&g->lock);
    g->stopping = 1;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g->reply);
    free(g);
}

void runner_guard_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                         enum MHD_ConnectionNotificationCode code) {
    struct runner_guard *g = cls;
    if (g == NULL) return; /* no header deadline */
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct runner_watch *w = info ? calloc(1, sizeof *w) : NULL;
        *socket_context = w;
        if (w == NULL) return; /* out of memory: this connection has the idle timeout only */
        w->fd = info->connect_fd;
        pthread_mutex_lock(&g->lock);
        w->next = g->watches;
        if (g->watches) g->watches->prev = w;
        g->watches = w;
        set_deadline(g, w);
        pthread_mutex_unlock(&g->lock);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct runner_watch *w = *socket_context;
        if (w == NULL) return;
        pthread_mutex_lock(&g->lock);
        if (w->prev) w->prev->next = w->next; else g->watches = w->next;
        if (w->next) w->next->prev = w->prev;
        pthread_mutex_unlock(&g->lock);
        free(w);
        *socket_context = NULL;
    }
}

static struct runner_watch *watch_of(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

void runner_guard_headers_done(struct runner_guard *g, struct MHD_Connection *connection) {
    struct runner_watch *w = g ? watch_of(connection) : NULL;
    if (w == NULL) return;
    pthread_mutex_lock(&g->lock);
    w->deadline_ms = 0;
    pthread_mutex_unlock(&g->lock);
}

void runner_guard_request_started(struct runner_guard *g, struct MHD_Connection *connection) {
    struct runner_watch *w = g ? watch_of(connection) : NULL;
    if (w == NULL) return;
    pthread_mutex_lock(&g->lock);
    w->request_started = 1;
    pthread_mutex_unlock(&g->lock);
}

void runner_guard_request_done(struct runner_guard *g, struct MHD_Connection *connection) {
    struct runner_watch *w = g ? watch_of(connection) : NULL;
    if (w == NULL) return;
    pthread_mutex_lock(&g->lock);
    set_deadline(g, w);
    pthread_mutex_unlock(&g->lock);
}
