/*
 * pprof_write.c: a plop call graph as pprof's profile.proto, gzip'd (see
 * pprof.h for what goes where).
 *
 * The protobuf encoding is written by hand (protobuf.h) rather than with
 * libprotobuf-c: the writer emits six message types of scalar fields, and
 * a generated library would add a build step and a dependency for what is
 * a varint loop.  Sub-messages are encoded into one reused scratch
 * buffer and then copied behind their length, so nothing is allocated
 * per sample.
 */
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "arena.h"
#include "graph.h"
#include "hash.h"
#include "pprof.h"
#include "profile.h"
#include "protobuf.h"
#include "strbuf.h"

/* profile.proto field numbers. */
enum {
    PROFILE_SAMPLE_TYPE = 1,
    PROFILE_SAMPLE = 2,
    PROFILE_MAPPING = 3,
    PROFILE_LOCATION = 4,
    PROFILE_FUNCTION = 5,
    PROFILE_STRING_TABLE = 6,
    PROFILE_PERIOD_TYPE = 11,
    PROFILE_PERIOD = 12,
    PROFILE_COMMENT = 13,
    PROFILE_DEFAULT_SAMPLE_TYPE = 14,
    VALUE_TYPE_TYPE = 1,
    VALUE_TYPE_UNIT = 2,
    SAMPLE_LOCATION_ID = 1,
    SAMPLE_VALUE = 2,
    MAPPING_ID = 1,
    MAPPING_HAS_FUNCTIONS = 7,
    MAPPING_HAS_FILENAMES = 8,
    MAPPING_HAS_LINE_NUMBERS = 9,
    LOCATION_ID = 1,
    LOCATION_MAPPING_ID = 2,
    LOCATION_LINE = 4,
    LINE_FUNCTION_ID = 1,
    LINE_LINE = 2,
    FUNCTION_ID = 1,
    FUNCTION_NAME = 2,
    FUNCTION_FILENAME = 4,
    FUNCTION_START_LINE = 5
};

/*
 * The string table: strings interned by content in an open-addressing
 * table (power of two, at most half full), numbered in order of first
 * use; index 0 is "" as profile.proto requires.
 */
struct strtab {
    struct arena *arena;
    const char **str;
    uint32_t *len;
    uint32_t n, cap;
    uint32_t *slots;        /* index + 1, 0 = empty */
    size_t mask;
};

static uint32_t
str_hash(const char *s, size_t n)
{
    return fnv1a(FNV1A_INIT, s, n);
}

static void strtab_rehash(struct strtab *t, size_t nslots);

static void
strtab_init(struct strtab *t, struct arena *a)
{
    memset(t, 0, sizeof(*t));
    t->arena = a;
    strtab_rehash(t, 256);
}

static void
strtab_rehash(struct strtab *t, size_t nslots)
{
    t->slots = arena_calloc(t->arena, nslots, sizeof(*t->slots));
    t->mask = nslots - 1;
    for (uint32_t i = 0; i < t->n; i++) {
        size_t j = str_hash(t->str[i], t->len[i]) & t->mask;
        while (t->slots[j] != 0) {
            j = (j + 1) & t->mask;
        }
        t->slots[j] = i + 1;
    }
}

/* The index of s[0..n), adding it if new.  O(n) expected. */
static uint64_t
strtab_id(struct strtab *t, const char *s, size_t n)
{
    size_t j = str_hash(s, n) & t->mask;
    while (t->slots[j] != 0) {
        uint32_t i = t->slots[j] - 1;
        if (t->len[i] == n && memcmp(t->str[i], s, n) == 0) {
            return i;
        }
        j = (j + 1) & t->mask;
    }
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 256;
        t->str = arena_grow(t->arena, t->str, t->n, cap, sizeof(*t->str));
        t->len = arena_grow(t->arena, t->len, t->n, cap, sizeof(*t->len));
        t->cap = cap;
    }
    uint32_t id = t->n++;
    t->str[id] = s;
    t->len[id] = (uint32_t)n;
    t->slots[j] = id + 1;
    if ((size_t)t->n * 2 > t->mask + 1) {
        strtab_rehash(t, (t->mask + 1) * 2);
    }
    return id;
}

static uint64_t
strtab_cstr(struct strtab *t, const char *s)
{
    return strtab_id(t, s, strlen(s));
}

/* Puts the sub-message built in `msg` as field `field` of out, and
 * empties msg for the next one. */
static void
put_msg(struct strbuf *out, uint32_t field, struct strbuf *msg)
{
    pb_put_bytes(out, field, msg->buf, msg->len);
    msg->len = 0;
}

static void
put_value_type(struct strbuf *out, uint32_t field, struct strbuf *msg,
               uint64_t type, uint64_t unit)
{
    pb_put_uint(msg, VALUE_TYPE_TYPE, type);
    pb_put_uint(msg, VALUE_TYPE_UNIT, unit);
    put_msg(out, field, msg);
}

int
pprof_encode(struct strbuf *out, const struct graph *g,
             const struct pprof_meta *m, struct diag *d)
{
    struct arena *a = out->arena;
    const struct profile *prof = g->prof;
    struct strtab st;
    struct strbuf msg;
    strtab_init(&st, a);
    strbuf_init(&msg, a);
    strbuf_grow(&msg, 256);
    strtab_id(&st, "", 0);

    uint64_t s_samples = strtab_cstr(&st, "samples");
    uint64_t s_count = strtab_cstr(&st, "count");
    uint64_t s_cpu = strtab_cstr(&st, "cpu");
    uint64_t s_ns = strtab_cstr(&st, "nanoseconds");
    put_value_type(out, PROFILE_SAMPLE_TYPE, &msg, s_samples, s_count);
    put_value_type(out, PROFILE_SAMPLE_TYPE, &msg, s_cpu, s_ns);

    /* Ids: a Location per frame used by a kept stack, a Function per
     * node reached from one, both numbered from 1 in id order. */
    uint64_t *loc_id = arena_calloc(a, prof->nframes + 1, sizeof(*loc_id));
    uint64_t *fn_id = arena_calloc(a, g->nnodes + 1, sizeof(*fn_id));
    uint32_t max_depth = 1;
    for (size_t i = 0; i < prof->nstacks; i++) {
        if (!g->stack_kept[i]) {
            continue;
        }
        const struct stack *s = &prof->stacks[i];
        for (uint32_t k = 0; k < s->depth; k++) {
            loc_id[s->frames[k]] = 1;
            fn_id[g->frame_node[s->frames[k]]] = 1;
        }
        if (s->depth > max_depth) {
            max_depth = s->depth;
        }
    }
    uint64_t nloc = 0, nfn = 0;
    for (uint32_t f = 0; f < prof->nframes; f++) {
        if (loc_id[f]) {
            loc_id[f] = ++nloc;
        }
    }
    for (uint32_t n = 0; n < g->nnodes; n++) {
        if (fn_id[n]) {
            fn_id[n] = ++nfn;
        }
    }

    /* Samples. */
    uint64_t *ids = arena_alloc(a, max_depth * sizeof(*ids));
    for (size_t i = 0; i < prof->nstacks; i++) {
        if (!g->stack_kept[i]) {
            continue;
        }
        const struct stack *s = &prof->stacks[i];
        for (uint32_t k = 0; k < s->depth; k++) {
            ids[k] = loc_id[s->frames[k]];
        }
        if (m->period_ns > 0 && s->count > INT64_MAX / m->period_ns) {
            diag_set(d, DIAG_USAGE, "error: the cpu time of a stack (%llu "
                     "samples of %llu ns) does not fit in pprof's int64",
                     (unsigned long long)s->count,
                     (unsigned long long)m->period_ns);
            return -1;
        }
        uint64_t values[2] = {s->count, s->count * m->period_ns};
        pb_put_packed(&msg, SAMPLE_LOCATION_ID, ids, s->depth);
        pb_put_packed(&msg, SAMPLE_VALUE, values, 2);
        put_msg(out, PROFILE_SAMPLE, &msg);
    }

    pb_put_uint(&msg, MAPPING_ID, 1);
    pb_put_uint(&msg, MAPPING_HAS_FUNCTIONS, 1);
    pb_put_uint(&msg, MAPPING_HAS_FILENAMES, 1);
    pb_put_uint(&msg, MAPPING_HAS_LINE_NUMBERS, 1);
    put_msg(out, PROFILE_MAPPING, &msg);

    struct strbuf line;
    strbuf_init(&line, a);
    for (uint32_t f = 0; f < prof->nframes; f++) {
        if (!loc_id[f]) {
            continue;
        }
        pb_put_uint(&line, LINE_FUNCTION_ID, fn_id[g->frame_node[f]]);
        pb_put_uint(&line, LINE_LINE, (uint64_t)prof->frames[f].line);
        pb_put_uint(&msg, LOCATION_ID, loc_id[f]);
        pb_put_uint(&msg, LOCATION_MAPPING_ID, 1);
        put_msg(&msg, LOCATION_LINE, &line);
        put_msg(out, PROFILE_LOCATION, &msg);
    }

    for (uint32_t n = 0; n < g->nnodes; n++) {
        if (!fn_id[n]) {
            continue;
        }
        const struct graph_node *node = &g->nodes[n];
        uint64_t name = strtab_id(&st, node->func, node->func_len);
        pb_put_uint(&msg, FUNCTION_ID, fn_id[n]);
        /* No system name: pprof "demangles" a system name that equals
         * the name, and strips <...> from it as C++ template arguments,
         * which would turn <listcomp> into "". */
        pb_put_uint(&msg, FUNCTION_NAME, name);
        pb_put_uint(&msg, FUNCTION_FILENAME,
                    strtab_id(&st, node->file, node->file_len));
        pb_put_uint(&msg, FUNCTION_START_LINE, (uint64_t)node->line);
        put_msg(out, PROFILE_FUNCTION, &msg);
    }

    /* Everything that names a string is known before the table is
     * written, except the comments: intern them first. */
    uint64_t *comment = arena_alloc(a, (size_t)(m->ncomments + 1)
                                    * sizeof(*comment));
    for (int i = 0; i < m->ncomments; i++) {
        comment[i] = strtab_cstr(&st, m->comments[i]);
    }
    for (uint32_t i = 0; i < st.n; i++) {
        pb_put_bytes(out, PROFILE_STRING_TABLE, st.str[i], st.len[i]);
    }
    put_value_type(out, PROFILE_PERIOD_TYPE, &msg, s_cpu, s_ns);
    pb_put_uint(out, PROFILE_PERIOD, m->period_ns);
    for (int i = 0; i < m->ncomments; i++) {
        /* A comment may be string 0 (an empty comment): keep it. */
        pb_put_varint(out, ((uint64_t)PROFILE_COMMENT << 3) | PB_VARINT);
        pb_put_varint(out, comment[i]);
    }
    pb_put_uint(out, PROFILE_DEFAULT_SAMPLE_TYPE, s_cpu);
    return 0;
}

int
pprof_write(struct strbuf *out, const struct graph *g,
            const struct pprof_meta *m, struct diag *d)
{
    struct strbuf raw;
    strbuf_init(&raw, out->arena);
    if (pprof_encode(&raw, g, m, d) != 0) {
        return -1;
    }
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    /* windowBits 15 + 16: a gzip wrapper; with no deflateSetHeader() its
     * header has mtime 0, so the bytes depend on the profile only. */
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        != Z_OK) {
        die_nomem(sizeof(zs));
    }
    /* deflateBound() takes a uLong; feed large inputs in pieces. */
    const unsigned char *src = (const unsigned char *)raw.buf;
    size_t left = raw.len;
    int flush;
    do {
        uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
        zs.next_in = (Bytef *)src;
        zs.avail_in = chunk;
        src += chunk;
        left -= chunk;
        flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        int zrc;
        do {
            strbuf_grow(out, 64 * 1024);
            size_t room = out->cap - out->len - 1;
            if (room > (1u << 30)) {
                room = 1u << 30;
            }
            zs.next_out = (Bytef *)out->buf + out->len;
            zs.avail_out = (uInt)room;
            zrc = deflate(&zs, flush);
            out->len += room - zs.avail_out;
            if (zrc == Z_STREAM_ERROR) {
                deflateEnd(&zs);
                diag_set(d, DIAG_IO, "error: zlib failed to compress the "
                         "pprof profile");
                return -1;
            }
        } while (zs.avail_out == 0 || (flush == Z_FINISH
                                       && zrc != Z_STREAM_END));
    } while (flush != Z_FINISH);
    deflateEnd(&zs);
    out->buf[out->len] = '\0';
    return 0;
}
