/*
 * pprof_read.c: reading pprof's profile.proto (gzip'd or not) into a
 * plop profile (see pprof.h for the mapping and the error contract).
 *
 * Format: github.com/google/pprof/proto/profile.proto.  The string table
 * may come after the messages that index it (Go writes it after the
 * functions), and locations need the functions, so the top-level
 * message is walked five times, each walk skipping over the fields it
 * does not need (a skip costs one varint): count the repeated fields,
 * collect the strings, then the sample types, period and functions, then
 * the locations, then stream the samples.  Nothing is allocated per
 * sample: a sample's frame ids go to the profile's id scratch array.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "arena.h"
#include "pprof.h"
#include "profile.h"
#include "protobuf.h"

struct pstring {
    const char *s;
    uint32_t len;
};

struct pfunc {
    uint64_t id;
    uint64_t name, system_name, filename;   /* string indexes */
    size_t offset;                          /* for messages */
};

struct ploc {
    uint64_t id;
    uint32_t first;     /* its frame ids: frames[first .. first + n) */
    uint32_t n;
    size_t offset;      /* for messages */
};

struct reader {
    struct profile *p;
    const char *name;
    struct diag *d;
    struct pb_reader top;
    struct pstring *strings;
    uint64_t nstrings;
    struct pfunc *funcs;
    size_t nfuncs;
    struct ploc *locs;
    size_t nlocs;
    uint32_t *loc_frames;
    size_t nloc_frames, loc_frames_cap;
    uint64_t nsample_types;
    uint64_t value_index;       /* which value is the count */
};

static int
fail(struct reader *r, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct reader *r, size_t offset, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    diag_set(r->d, DIAG_PARSE, "%s: error: pprof byte %zu: %s", r->name,
             offset, what);
    return -1;
}

static int
fail_pb(struct reader *r, enum pb_error err, size_t offset)
{
    return fail(r, offset, "malformed protobuf: %s", pb_error_str(err));
}

/* Next field of m, or 0 at its end; -1 (d filled) on malformed input. */
static int
next(struct reader *r, struct pb_reader *m, struct pb_field *f)
{
    enum pb_error err;
    size_t off;
    int rc = pb_next(m, f, &err, &off);
    if (rc < 0) {
        return fail_pb(r, err, off);
    }
    return rc;
}

static const char *
wire_name(enum pb_wire w)
{
    switch (w) {
    case PB_VARINT:
        return "a varint";
    case PB_I64:
        return "a 64-bit value";
    case PB_LEN:
        return "length-delimited";
    case PB_I32:
        return "a 32-bit value";
    }
    return "unknown";
}

static int
want_wire(struct reader *r, const struct pb_field *f, enum pb_wire w,
          const char *what)
{
    if (f->wire != w) {
        return fail(r, f->offset, "%s is %s, expected %s", what,
                    wire_name(f->wire), wire_name(w));
    }
    return 0;
}

static int
check_string(struct reader *r, uint64_t index, size_t offset,
             const char *what)
{
    if (index >= r->nstrings) {
        return fail(r, offset, "%s names string %llu, but the string table "
                    "has %llu strings", what, (unsigned long long)index,
                    (unsigned long long)r->nstrings);
    }
    return 0;
}

static int
id_cmp_func(const void *a, const void *b)
{
    uint64_t x = ((const struct pfunc *)a)->id;
    uint64_t y = ((const struct pfunc *)b)->id;
    return (x > y) - (x < y);
}

static int
id_cmp_loc(const void *a, const void *b)
{
    uint64_t x = ((const struct ploc *)a)->id;
    uint64_t y = ((const struct ploc *)b)->id;
    return (x > y) - (x < y);
}

static const struct pfunc *
find_func(const struct reader *r, uint64_t id)
{
    struct pfunc key;
    key.id = id;
    return bsearch(&key, r->funcs, r->nfuncs, sizeof(key), id_cmp_func);
}

static const struct ploc *
find_loc(const struct reader *r, uint64_t id)
{
    struct ploc key;
    key.id = id;
    return bsearch(&key, r->locs, r->nlocs, sizeof(key), id_cmp_loc);
}

/* Pass 1: counts the repeated fields, so the tables are sized once. */
static int
count_fields(struct reader *r, size_t *nsample_types, size_t *nfuncs,
             size_t *nlocs)
{
    struct pb_reader m = r->top;
    struct pb_field f;
    int rc;
    *nsample_types = *nfuncs = *nlocs = 0;
    r->nstrings = 0;
    while ((rc = next(r, &m, &f)) > 0) {
        switch (f.number) {
        case 1:
            ++*nsample_types;
            break;
        case 4:
            ++*nlocs;
            break;
        case 5:
            ++*nfuncs;
            break;
        case 6:
            r->nstrings++;
            break;
        }
    }
    return rc;
}

/* A ValueType (sample type, period type): its type and unit indexes. */
static int
read_value_type(struct reader *r, const struct pb_field *f, uint64_t *type,
                uint64_t *unit)
{
    struct pb_reader m;
    struct pb_field g;
    int rc;
    if (want_wire(r, f, PB_LEN, "a value type") != 0) {
        return -1;
    }
    pb_reader_sub(&m, &r->top, f);
    *type = *unit = 0;
    while ((rc = next(r, &m, &g)) > 0) {
        if (g.number == 1 || g.number == 2) {
            if (want_wire(r, &g, PB_VARINT, "a value type's field") != 0) {
                return -1;
            }
            if (check_string(r, g.value, g.offset, "a value type") != 0) {
                return -1;
            }
            *(g.number == 1 ? type : unit) = g.value;
        }
    }
    return rc;
}

static int
str_is(const struct reader *r, uint64_t index, const char *s)
{
    size_t n = strlen(s);
    return index < r->nstrings && r->strings[index].len == n
        && memcmp(r->strings[index].s, s, n) == 0;
}

static int
read_function(struct reader *r, const struct pb_field *f, struct pfunc *fn)
{
    struct pb_reader m;
    struct pb_field g;
    int rc;
    if (want_wire(r, f, PB_LEN, "a function") != 0) {
        return -1;
    }
    pb_reader_sub(&m, &r->top, f);
    memset(fn, 0, sizeof(*fn));
    fn->offset = f->offset;
    while ((rc = next(r, &m, &g)) > 0) {
        if (g.number < 1 || g.number > 5) {
            continue;
        }
        if (want_wire(r, &g, PB_VARINT, "a function's field") != 0) {
            return -1;
        }
        switch (g.number) {
        case 1:
            fn->id = g.value;
            break;
        case 2:
        case 3:
        case 4:
            if (check_string(r, g.value, g.offset, "a function") != 0) {
                return -1;
            }
            *(g.number == 2 ? &fn->name : g.number == 3 ? &fn->system_name
                                                        : &fn->filename)
                = g.value;
            break;
        }
    }
    if (rc == 0 && fn->id == 0) {
        return fail(r, f->offset, "a function has no id (or id 0)");
    }
    return rc;
}

static int
intern(struct reader *r, size_t offset, const char *file, size_t flen,
       long line, const char *func, size_t fnlen, uint32_t *id)
{
    if (memchr(file, '\0', flen) != NULL || memchr(func, '\0', fnlen)
        != NULL) {
        return fail(r, offset, "a function or file name contains a NUL "
                    "byte");
    }
    int64_t rc = profile_intern(r->p, file, flen, line, func, fnlen);
    if (rc == -1) {
        return fail(r, offset, "number of distinct frames is larger than "
                    "the limit %u", r->p->max_frames);
    }
    if (rc == -2) {
        return fail(r, offset, "string is longer than the limit %u bytes",
                    PROFILE_MAX_STRING);
    }
    *id = (uint32_t)rc;
    return 0;
}

static void
push_loc_frame(struct reader *r, uint32_t id)
{
    if (r->nloc_frames == r->loc_frames_cap) {
        size_t cap = r->loc_frames_cap ? r->loc_frames_cap * 2 : 1024;
        r->loc_frames = arena_grow(r->p->arena, r->loc_frames,
                                   r->nloc_frames, cap,
                                   sizeof(*r->loc_frames));
        r->loc_frames_cap = cap;
    }
    r->loc_frames[r->nloc_frames++] = id;
}

/* One Line of a location: a frame.  Functions must be sorted already. */
static int
read_line(struct reader *r, const struct pb_field *f)
{
    struct pb_reader m;
    struct pb_field g;
    int rc;
    uint64_t fid = 0;
    int64_t line = 0;
    if (want_wire(r, f, PB_LEN, "a location's line") != 0) {
        return -1;
    }
    pb_reader_sub(&m, &r->top, f);
    while ((rc = next(r, &m, &g)) > 0) {
        if (g.number == 1 || g.number == 2) {
            if (want_wire(r, &g, PB_VARINT, "a line's field") != 0) {
                return -1;
            }
            if (g.number == 1) {
                fid = g.value;
            } else {
                line = (int64_t)g.value;
            }
        }
    }
    if (rc < 0) {
        return -1;
    }
    if (line < 0 || line > PROFILE_MAX_LINE) {
        return fail(r, f->offset, "line number %lld is out of the range 0 "
                    "to %ld", (long long)line, PROFILE_MAX_LINE);
    }
    const struct pfunc *fn = find_func(r, fid);
    if (fn == NULL) {
        return fail(r, f->offset, "a line names function %llu, which is "
                    "not defined", (unsigned long long)fid);
    }
    uint64_t name = fn->name ? fn->name : fn->system_name;
    const struct pstring *func = &r->strings[name];
    const struct pstring *file = &r->strings[fn->filename];
    uint32_t id;
    if (intern(r, f->offset, file->s, file->len, (long)line, func->s,
               func->len, &id) != 0) {
        return -1;
    }
    push_loc_frame(r, id);
    return 0;
}

static int
read_location(struct reader *r, const struct pb_field *f, struct ploc *loc)
{
    struct pb_reader m;
    struct pb_field g;
    int rc;
    uint64_t address = 0;
    if (want_wire(r, f, PB_LEN, "a location") != 0) {
        return -1;
    }
    pb_reader_sub(&m, &r->top, f);
    loc->id = 0;
    loc->offset = f->offset;
    loc->first = (uint32_t)r->nloc_frames;
    while ((rc = next(r, &m, &g)) > 0) {
        if (g.number == 1 || g.number == 3) {
            if (want_wire(r, &g, PB_VARINT, "a location's field") != 0) {
                return -1;
            }
            *(g.number == 1 ? &loc->id : &address) = g.value;
        } else if (g.number == 4) {
            if (read_line(r, &g) != 0) {
                return -1;
            }
        }
    }
    if (rc < 0) {
        return -1;
    }
    if (loc->id == 0) {
        return fail(r, f->offset, "a location has no id (or id 0)");
    }
    if (r->nloc_frames == loc->first) {
        /* No symbol: the address, as pprof shows it. */
        char hex[24];
        int n = snprintf(hex, sizeof(hex), "0x%llx",
                         (unsigned long long)address);
        uint32_t id;
        if (intern(r, f->offset, "", 0, 0, hex, (size_t)n, &id) != 0) {
            return -1;
        }
        push_loc_frame(r, id);
    }
    if (r->nloc_frames - loc->first > PROFILE_MAX_DEPTH) {
        return fail(r, f->offset, "stack is deeper than the limit %d",
                    PROFILE_MAX_DEPTH);
    }
    loc->n = (uint32_t)(r->nloc_frames - loc->first);
    return 0;
}

/* Pass 2: strings, sample types, period, functions, locations. */
static int
read_tables(struct reader *r, size_t nsample_types, size_t nfuncs,
            size_t nlocs)
{
    struct arena *a = r->p->arena;
    struct pb_reader m = r->top;
    struct pb_field f;
    int rc;
    r->strings = arena_alloc(a, (r->nstrings + 1) * sizeof(*r->strings));
    r->funcs = arena_alloc(a, (nfuncs + 1) * sizeof(*r->funcs));
    r->locs = arena_alloc(a, (nlocs + 1) * sizeof(*r->locs));
    uint64_t *types = arena_alloc(a, (nsample_types + 1) * 2
                                  * sizeof(*types));
    uint64_t nstr = 0;
    size_t first_string = 0;
    while ((rc = next(r, &m, &f)) > 0) {
        if (f.number == 6) {
            if (want_wire(r, &f, PB_LEN, "a string") != 0) {
                return -1;
            }
            if (nstr == 0) {
                first_string = f.offset;
            }
            if (f.len > PROFILE_MAX_STRING) {
                return fail(r, f.offset, "string is longer than the limit "
                            "%u bytes", PROFILE_MAX_STRING);
            }
            r->strings[nstr].s = (const char *)f.data;
            r->strings[nstr].len = (uint32_t)f.len;
            nstr++;
        }
    }
    if (rc < 0) {
        return -1;
    }
    if (r->nstrings > 0 && r->strings[0].len != 0) {
        return fail(r, first_string, "the first string of the string table "
                    "is not empty");
    }

    /* Functions first: locations look them up. */
    m = r->top;
    uint64_t period = 0, period_unit = 0;
    int have_period_type = 0;
    while ((rc = next(r, &m, &f)) > 0) {
        uint64_t t, u;
        switch (f.number) {
        case 1:
            if (read_value_type(r, &f, &t, &u) != 0) {
                return -1;
            }
            types[2 * r->nsample_types] = t;
            types[2 * r->nsample_types + 1] = u;
            r->nsample_types++;
            break;
        case 5:
            if (read_function(r, &f, &r->funcs[r->nfuncs]) != 0) {
                return -1;
            }
            r->nfuncs++;
            break;
        case 11:
            if (read_value_type(r, &f, &t, &period_unit) != 0) {
                return -1;
            }
            have_period_type = 1;
            break;
        case 12:
            if (want_wire(r, &f, PB_VARINT, "the period") != 0) {
                return -1;
            }
            period = f.value;
            break;
        case 9:
        case 10:
        case 13:
        case 14:
            if (want_wire(r, &f, PB_VARINT, "a profile's scalar") != 0) {
                return -1;
            }
            if (f.number == 13 && check_string(r, f.value, f.offset,
                                               "a comment") != 0) {
                return -1;
            }
            break;
        }
    }
    if (rc < 0) {
        return -1;
    }
    qsort(r->funcs, r->nfuncs, sizeof(*r->funcs), id_cmp_func);
    for (size_t i = 1; i < r->nfuncs; i++) {
        if (r->funcs[i].id == r->funcs[i - 1].id) {
            const struct pfunc *later =
                r->funcs[i].offset > r->funcs[i - 1].offset
                ? &r->funcs[i] : &r->funcs[i - 1];
            return fail(r, later->offset, "function id %llu is defined "
                        "twice", (unsigned long long)later->id);
        }
    }

    m = r->top;
    while ((rc = next(r, &m, &f)) > 0) {
        if (f.number == 4) {
            if (read_location(r, &f, &r->locs[r->nlocs]) != 0) {
                return -1;
            }
            r->nlocs++;
        }
    }
    if (rc < 0) {
        return -1;
    }
    qsort(r->locs, r->nlocs, sizeof(*r->locs), id_cmp_loc);
    for (size_t i = 1; i < r->nlocs; i++) {
        if (r->locs[i].id == r->locs[i - 1].id) {
            const struct ploc *later =
                r->locs[i].offset > r->locs[i - 1].offset
                ? &r->locs[i] : &r->locs[i - 1];
            return fail(r, later->offset, "location id %llu is defined "
                        "twice", (unsigned long long)later->id);
        }
    }

    r->value_index = 0;
    for (uint64_t i = r->nsample_types; i-- > 0;) {
        if (str_is(r, types[2 * i + 1], "count")) {
            r->value_index = i;
        }
    }
    if (have_period_type && period > 0 && period <= (uint64_t)INT64_MAX
        && str_is(r, period_unit, "nanoseconds") && r->p->period_ns == 0) {
        r->p->period_ns = period;
    }
    return 0;
}

/* Reads a repeated uint64 field given packed or one value at a time,
 * calling each(r, value, offset) for every value. */
static int
each_value(struct reader *r, const struct pb_field *f,
           int (*each)(struct reader *, uint64_t, size_t, void *), void *arg)
{
    if (f->wire == PB_VARINT) {
        return each(r, f->value, f->offset, arg);
    }
    if (want_wire(r, f, PB_LEN, "a repeated varint") != 0) {
        return -1;
    }
    const unsigned char *p = f->data, *end = f->data + f->len;
    while (p < end) {
        uint64_t v;
        enum pb_error err;
        size_t off = (size_t)(p - r->top.start);
        if (pb_read_varint(&p, end, &v, &err) != 0) {
            return fail_pb(r, err, off);
        }
        if (each(r, v, off, arg) != 0) {
            return -1;
        }
    }
    return 0;
}

struct sample_state {
    uint32_t depth;
    uint64_t nvalues;
    uint64_t count;
};

static int
add_location(struct reader *r, uint64_t id, size_t off, void *arg)
{
    struct sample_state *s = arg;
    const struct ploc *loc = find_loc(r, id);
    if (loc == NULL) {
        return fail(r, off, "a sample names location %llu, which is not "
                    "defined", (unsigned long long)id);
    }
    if (loc->n > PROFILE_MAX_DEPTH - s->depth) {
        return fail(r, off, "stack is deeper than the limit %d",
                    PROFILE_MAX_DEPTH);
    }
    uint32_t *ids = profile_scratch_ids(r->p, s->depth + loc->n, s->depth);
    memcpy(ids + s->depth, r->loc_frames + loc->first,
           loc->n * sizeof(*ids));
    s->depth += loc->n;
    return 0;
}

static int
add_value(struct reader *r, uint64_t v, size_t off, void *arg)
{
    struct sample_state *s = arg;
    if (s->nvalues == r->value_index) {
        if ((int64_t)v < 0) {
            return fail(r, off, "sample value %lld is negative",
                        (long long)(int64_t)v);
        }
        if (v > PROFILE_MAX_COUNT) {
            return fail(r, off, "count %llu is larger than the limit %llu",
                        (unsigned long long)v, PROFILE_MAX_COUNT);
        }
        s->count = v;
    }
    s->nvalues++;
    return 0;
}

/* Pass 3: the samples, each added to the profile as it is read. */
static int
read_samples(struct reader *r)
{
    struct pb_reader m = r->top, sm;
    struct pb_field f, g;
    int rc, src;
    while ((rc = next(r, &m, &f)) > 0) {
        if (f.number != 2) {
            continue;
        }
        if (want_wire(r, &f, PB_LEN, "a sample") != 0) {
            return -1;
        }
        struct sample_state s = {0, 0, 0};
        pb_reader_sub(&sm, &r->top, &f);
        while ((src = next(r, &sm, &g)) > 0) {
            if (g.number == 1
                && each_value(r, &g, add_location, &s) != 0) {
                return -1;
            }
            if (g.number == 2 && each_value(r, &g, add_value, &s) != 0) {
                return -1;
            }
        }
        if (src < 0) {
            return -1;
        }
        if (s.nvalues != r->nsample_types) {
            return fail(r, f.offset, "a sample has %llu values for %llu "
                        "sample types", (unsigned long long)s.nvalues,
                        (unsigned long long)r->nsample_types);
        }
        if (s.depth == 0 || s.count == 0) {
            continue;
        }
        uint32_t *ids = profile_scratch_ids(r->p, s.depth, s.depth);
        if (profile_add_stack(r->p, ids, s.depth, s.count) != 0) {
            return fail(r, f.offset, "total count is larger than the limit "
                        "%llu", PROFILE_MAX_TOTAL);
        }
    }
    return rc;
}

/*
 * Inflates a gzip stream into a new malloc'd buffer (*out, *outlen) that
 * the caller frees.  Concatenated members are read one after the other,
 * as gunzip does.  Returns 0 or -1 with d filled.
 */
static int
gunzip(const char *name, const char *buf, size_t len, char **out,
       size_t *outlen, struct diag *d)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
        die_nomem(sizeof(zs));
    }
    size_t cap = len < (1u << 20) ? (1u << 20) : len, n = 0;
    char *dst = malloc(cap);
    if (dst == NULL) {
        die_nomem(cap);
    }
    const unsigned char *src = (const unsigned char *)buf;
    size_t left = len;
    int zrc = Z_OK;
    for (;;) {
        if (n == cap) {
            if (cap >= PROFILE_MAX_INPUT) {
                inflateEnd(&zs);
                free(dst);
                diag_set(d, DIAG_PARSE, "%s: error: the decompressed pprof "
                         "profile is larger than the limit %zu bytes", name,
                         PROFILE_MAX_INPUT);
                return -1;
            }
            cap = cap * 2 > PROFILE_MAX_INPUT ? PROFILE_MAX_INPUT : cap * 2;
            char *nd = realloc(dst, cap);
            if (nd == NULL) {
                free(dst);
                die_nomem(cap);
            }
            dst = nd;
        }
        uInt in_chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
        size_t room = cap - n > (1u << 30) ? (1u << 30) : cap - n;
        zs.next_in = (Bytef *)src;
        zs.avail_in = in_chunk;
        zs.next_out = (Bytef *)dst + n;
        zs.avail_out = (uInt)room;
        zrc = inflate(&zs, Z_NO_FLUSH);
        src += in_chunk - zs.avail_in;
        left -= in_chunk - zs.avail_in;
        n += room - zs.avail_out;
        if (zrc == Z_STREAM_END) {
            /* Another member may follow; anything else is an error. */
            if (left == 0) {
                break;
            }
            if (left < 2 || src[0] != 0x1f || src[1] != 0x8b) {
                inflateEnd(&zs);
                free(dst);
                diag_set(d, DIAG_PARSE, "%s: error: %zu bytes of garbage "
                         "after the gzip data", name, left);
                return -1;
            }
            inflateReset(&zs);
            continue;
        }
        if (zrc == Z_DATA_ERROR || zrc == Z_NEED_DICT || zrc == Z_MEM_ERROR
            || zrc == Z_STREAM_ERROR) {
            const char *why = zs.msg ? zs.msg : "bad data";
            diag_set(d, DIAG_PARSE, "%s: error: corrupt gzip data at byte "
                     "%zu: %s", name, len - left, why);
            inflateEnd(&zs);
            free(dst);
            return -1;
        }
        if (zs.avail_out > 0 && left == 0) {
            /* Everything was read and the stream has not ended. */
            inflateEnd(&zs);
            free(dst);
            diag_set(d, DIAG_PARSE, "%s: error: truncated gzip data "
                     "(the file ends after %zu bytes)", name, len);
            return -1;
        }
        if (zrc == Z_BUF_ERROR && zs.avail_out > 0) {
            inflateEnd(&zs);
            free(dst);
            diag_set(d, DIAG_PARSE, "%s: error: corrupt gzip data at byte "
                     "%zu", name, len - left);
            return -1;
        }
    }
    inflateEnd(&zs);
    *out = dst;
    *outlen = n;
    return 0;
}

int
pprof_sniff(const char *buf, size_t len)
{
    if (len >= 2 && (unsigned char)buf[0] == 0x1f
        && (unsigned char)buf[1] == 0x8b) {
        return 1;
    }
    if (len == 0) {
        return 0;
    }
    unsigned char t = (unsigned char)buf[0];
    unsigned field = t >> 3, wire = t & 7;
    if (field < 1 || field > 14 || (wire != PB_VARINT && wire != PB_LEN)) {
        return 0;
    }
    for (size_t i = 1; i < len && i < 64; i++) {
        unsigned char c = (unsigned char)buf[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f')
            || c == 0x7f) {
            return 1;
        }
    }
    return 0;
}

int
parse_pprof(struct profile *p, const char *name, const char *buf,
            size_t len, struct diag *d)
{
    char *plain = NULL;
    size_t plain_len = len;
    if (len >= 2 && (unsigned char)buf[0] == 0x1f
        && (unsigned char)buf[1] == 0x8b) {
        if (gunzip(name, buf, len, &plain, &plain_len, d) != 0) {
            return -1;
        }
        buf = plain;
    }
    struct reader r;
    memset(&r, 0, sizeof(r));
    r.p = p;
    r.name = name;
    r.d = d;
    pb_reader_init(&r.top, buf, plain_len);
    size_t ntypes, nfuncs, nlocs;
    int rc = count_fields(&r, &ntypes, &nfuncs, &nlocs);
    if (rc == 0) {
        rc = read_tables(&r, ntypes, nfuncs, nlocs);
    }
    if (rc == 0) {
        rc = read_samples(&r);
    }
    free(plain);
    return rc == 0 ? 0 : -1;
}
