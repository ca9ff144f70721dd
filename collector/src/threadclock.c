/*
 * threadclock.c: per-thread clocks and the charging rule (threadclock.h).
 * Uses POSIX thread CPU-time clocks (pthread_getcpuclockid +
 * clock_gettime).  On Linux the clock id encodes the kernel thread id, so
 * clock_gettime on the clock of a thread that has ended fails with EINVAL
 * instead of reading the freed pthread structure.
 */
#include "threadclock.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

int64_t
wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
clock_ns(clockid_t cid)
{
    struct timespec ts;
    if (clock_gettime(cid, &ts) != 0) {
        return -1;
    }
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
thread_cpu_ns(unsigned long id)
{
    clockid_t cid;
    if (pthread_getcpuclockid((pthread_t)id, &cid) != 0) {
        return -1;
    }
    return clock_ns(cid);
}

int64_t
thread_clock_cpu_ns(const struct thread_clock *tc)
{
    return clock_ns(tc->cid);
}

void
thread_clocks_init(struct thread_clocks *c, int real)
{
    c->v = NULL;
    c->len = 0;
    c->cap = 0;
    c->gen = 0;
    c->snap_gen = 0;
    c->real = real;
}

void
thread_clocks_release(struct thread_clocks *c)
{
    free(c->v);
    thread_clocks_init(c, c->real);
}

void
thread_clocks_snapshot(struct thread_clocks *c)
{
    for (size_t i = 0; i < c->len; i++) {
        struct thread_clock *tc = &c->v[i];
        tc->snap_ns = thread_clock_cpu_ns(tc);
        tc->snap_gen = c->gen + 1;
    }
    c->snap_gen = c->gen + 1;
}

void
thread_clocks_snapshot_advance(struct thread_clocks *c, int64_t ticks_ns)
{
    if (c->snap_gen != c->gen + 1) {
        return;
    }
    int64_t used = 0;
    for (size_t i = 0; i < c->len; i++) {
        struct thread_clock *tc = &c->v[i];
        int64_t now = thread_clock_cpu_ns(tc);
        tc->late_ns = now;
        if (tc->snap_gen == c->snap_gen && tc->snap_ns >= 0
            && now > tc->snap_ns) {
            used += now - tc->snap_ns;
        }
    }
    if (used <= 0) {
        return;
    }
    double frac = ticks_ns >= used ? 1.0 : (double)ticks_ns / (double)used;
    for (size_t i = 0; i < c->len; i++) {
        struct thread_clock *tc = &c->v[i];
        if (tc->snap_gen == c->snap_gen && tc->snap_ns >= 0
            && tc->late_ns > tc->snap_ns) {
            tc->snap_ns += (int64_t)(frac * (double)(tc->late_ns - tc->snap_ns));
        }
    }
}

void
thread_clocks_sweep_begin(struct thread_clocks *c)
{
    c->gen++;
}

/*
 * Reads the record's clock in the mode's terms: -1 when the thread ended.
 * Keeps the CPU time read in tc->cpu_ns, for the caller of see().
 */
static int64_t
read_clock(const struct thread_clocks *c, struct thread_clock *tc,
           int64_t now_ns)
{
    int64_t cpu = thread_clock_cpu_ns(tc);
    tc->cpu_ns = cpu;
    if (cpu < 0) {
        return -1;
    }
    return c->real ? now_ns : cpu;
}

/* Makes a new record for thread id; NULL when out of memory. */
static struct thread_clock *
add_record(struct thread_clocks *c, unsigned long id, clockid_t cid)
{
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct thread_clock *v = realloc(c->v, cap * sizeof(*v));
        if (v == NULL) {
            return NULL;
        }
        c->v = v;
        c->cap = cap;
    }
    struct thread_clock *tc = &c->v[c->len++];
    memset(tc, 0, sizeof(*tc));
    tc->id = id;
    tc->cid = cid;
    return tc;
}

enum thread_clock_seen
thread_clocks_see(struct thread_clocks *c, unsigned long id, size_t hint,
                  int64_t now_ns, int64_t *delta_ns, struct thread_clock **out)
{
    struct thread_clock *tc = NULL;
    if (hint < c->len && c->v[hint].id == id) {
        tc = &c->v[hint];
    }
    for (size_t i = 0; tc == NULL && i < c->len; i++) {
        if (c->v[i].id == id) {
            tc = &c->v[i];
        }
    }
    *out = tc;
    *delta_ns = 0;
    if (tc != NULL && tc->gen == c->gen) {
        return THREAD_CLOCK_AGAIN;
    }
    int64_t now = -1;
    if (tc != NULL && !c->real && c->snap_gen == c->gen
        && tc->snap_gen == c->gen) {
        now = tc->snap_ns;
        tc->cpu_ns = now;
    }
    else if (tc != NULL) {
        now = read_clock(c, tc, now_ns);
    }
    if (tc != NULL && now >= 0) {
        tc->gen = c->gen;
        *delta_ns = now > tc->last_ns ? now - tc->last_ns : 0;
        tc->last_ns = now;
        return THREAD_CLOCK_CHARGE;
    }
    /*
     * First sight, or the record's thread ended and a new OS thread got
     * the same pthread_t (glibc reuses thread stacks, hence their ids):
     * a new baseline either way.
     */
    clockid_t cid;
    if (pthread_getcpuclockid((pthread_t)id, &cid) != 0) {
        cid = CLOCK_THREAD_CPUTIME_ID;  /* unreachable for a live thread */
    }
    if (tc == NULL) {
        tc = add_record(c, id, cid);
        if (tc == NULL) {
            return THREAD_CLOCK_NOMEM;
        }
        *out = tc;
    }
    tc->cid = cid;
    tc->carry_ns = 0;
    tc->last_entry = NULL;
    tc->gen = c->gen;
    now = read_clock(c, tc, now_ns);
    tc->last_ns = now >= 0 ? now : 0;
    return THREAD_CLOCK_NEW;
}

void
thread_clocks_sweep_end(struct thread_clocks *c, int64_t now_ns)
{
    size_t j = 0;
    for (size_t i = 0; i < c->len; i++) {
        struct thread_clock *tc = &c->v[i];
        if (tc->gen != c->gen) {
            int64_t now = read_clock(c, tc, now_ns);
            if (now < 0) {
                continue;           /* the thread ended */
            }
            tc->last_ns = now;
            tc->carry_ns = 0;
        }
        c->v[j++] = *tc;
    }
    c->len = j;
}
