#include "mhd.h"

#include <stdlib.h>
#include <string.h>

/* A streamed body: what the writer has written and libmicrohttpd has not sent yet, bytes
   [start, start + length) of data. Bounded by `limit`: a client that reads nothing must not
   make the server buffer without end (a few stalled event streams of a run with a large log
   once took gigabytes: docs/DECISIONS.md). */
struct runner_http_stream {
    pthread_mutex_t lock;
    char *data;
    size_t start;
    size_t length;
    size_t capacity;
    size_t limit;
    int closed;     /* the writer is done */
    int gone;       /* libmicrohttpd released the response */
    int suspended;
    int refs;       /* libmicrohttpd's and the writer's */
    struct MHD_Connection *connection;
};

/* An emptied buffer larger than this is given back: a stream that once fell behind does not
   keep its peak for the rest of its life. */
static const size_t kept_capacity = 64 * 1024;

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

runner_http_stream *runner_http_stream_open(const struct runner_http_request *request, size_t limit) {
    struct runner_http_stream *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    pthread_mutex_init(&s->lock, NULL);
    s->refs = 2;
    s->limit = limit;
    s->connection = request->connection;
    return s;
}

/* Room for `length` more bytes after what is buffered; called with the lock held. */
static int stream_reserve(struct runner_http_stream *s, size_t length) {
    if (s->start + s->length + length <= s->capacity) return 1;
    if (s->start > 0) {
        memmove(s->data, s->data + s->start, s->length);
        s->start = 0;
        if (s->length + length <= s->capacity) return 1;
    }
    size_t capacity = s->capacity < 4096 ? 4096 : s->capacity;
    while (capacity < s->length + length) capacity *= 2;
    if (capacity > s->limit) capacity = s->limit;
    char *grown = realloc(s->data, capacity);
    if (grown == NULL) return 0;
    s->data = grown;
    s->capacity = capacity;
    return 1;
}

int runner_http_stream_write(runner_http_stream *s, const char *data, size_t length) {
    pthread_mutex_lock(&s->lock);
    if (s->gone || length > s->limit - s->length || !stream_reserve(s, length)) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    memcpy(s->data + s->start + s->length, data, length);
    s->length += length;
    int resume = s->suspended;
    s->suspended = 0;
    pthread_mutex_unlock(&s->lock);
    /* Outside our lock: the reader suspends while holding it, so this resume comes after. */
    if (resume) MHD_resume_connection(s->connection);
    return 1;
}

long long runner_http_stream_pending(runner_http_stream *s) {
    pthread_mutex_lock(&s->lock);
    long long pending = s->gone ? -1 : (long long)s->length;
    pthread_mutex_unlock(&s->lock);
    return pending;
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

ssize_t runner_stream_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    struct runner_http_stream *s = cls;
    pthread_mutex_lock(&s->lock);
    if (s->length > 0) {
        size_t n = s->length < max ? s->length : max;
        memcpy(buf, s->data + s->start, n);
        s->start += n;
        s->length -= n;
        if (s->length == 0) {
            s->start = 0;
            if (s->capacity > kept_capacity) {
                free(s->data);
                s->data = NULL;
                s->capacity = 0;
            }
        }
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

void runner_stream_free(void *cls) {
    struct runner_http_stream *s = cls;
    pthread_mutex_lock(&s->lock);
    s->gone = 1;
    s->suspended = 0;
    pthread_mutex_unlock(&s->lock);
    stream_release(s);
}
