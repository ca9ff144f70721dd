/*
 * threadclock.c: per-thread CPU clocks and their records (threadclock.h).
 * Uses POSIX thread CPU-time clocks (pthread_getcpuclockid + clock_gettime),
 * which Linux provides for any live thread of the process.
 */
#include "threadclock.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
thread_cpu_ns(unsigned long id)
{
    clockid_t cid;
    struct timespec ts;
    if (pthread_getcpuclockid((pthread_t)id, &cid) != 0
        || clock_gettime(cid, &ts) != 0) {
        return -1;
    }
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
thread_clocks_init(struct thread_clocks *c)
{
    c->v = NULL;
    c->len = 0;
    c->cap = 0;
    c->gen = 0;
}

void
thread_clocks_release(struct thread_clocks *c)
{
    free(c->v);
    thread_clocks_init(c);
}

void
thread_clocks_sweep_begin(struct thread_clocks *c)
{
    c->gen++;
}

/* Drops the threads not seen since sweep_begin, keeping the order. */
void
thread_clocks_sweep_end(struct thread_clocks *c)
{
    size_t j = 0;
    for (size_t i = 0; i < c->len; i++) {
        if (c->v[i].gen == c->gen) {
            c->v[j++] = c->v[i];
        }
    }
    c->len = j;
}

struct thread_clock *
thread_clocks_get(struct thread_clocks *c, unsigned long id,
                  const void *owner, size_t hint)
{
    struct thread_clock *tc = NULL;
    if (hint < c->len && c->v[hint].id == id && c->v[hint].owner == owner) {
        tc = &c->v[hint];
    }
    for (size_t i = 0; tc == NULL && i < c->len; i++) {
        if (c->v[i].id == id && c->v[i].owner == owner) {
            tc = &c->v[i];
        }
    }
    if (tc == NULL) {
        if (c->len == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 16;
            struct thread_clock *v = realloc(c->v, cap * sizeof(*v));
            if (v == NULL) {
                return NULL;
            }
            c->v = v;
            c->cap = cap;
        }
        tc = &c->v[c->len++];
        tc->id = id;
        tc->owner = owner;
        tc->last_ns = -1;
        tc->carry_ns = 0;
    }
    tc->gen = c->gen;
    return tc;
}
