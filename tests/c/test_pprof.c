/*
 * test_pprof.c: the protobuf codec (protobuf.c), the pprof writer and
 * reader (pprof_write.c, pprof_read.c) and the speedscope writer
 * (speedscope.c).  Profiles are built by hand, written, read back and
 * compared frame by frame; hand-made protobuf bytes check that every
 * kind of bad input gets its error and nothing else.  The real pprof
 * and speedscope clients check the files in tests/interop and
 * tests/browser.
 */
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "check.h"
#include "graph.h"
#include "opts.h"
#include "pprof.h"
#include "profile.h"
#include "protobuf.h"
#include "speedscope.h"
#include "strbuf.h"

static struct arena *A;

static uint32_t
fr(struct profile *p, const char *file, long line, const char *func)
{
    int64_t id = profile_intern(p, file, strlen(file), line, func,
                                strlen(func));
    CHECK(id >= 0);
    return (uint32_t)id;
}

static void
add(struct profile *p, uint64_t count, int n, ...)
{
    uint32_t ids[64];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        ids[i] = va_arg(ap, uint32_t);
    }
    va_end(ap);
    CHECK_EQ_INT(profile_add_stack(p, ids, (uint32_t)n, count), 0);
}

/* A small profile: recursion, two running lines of one function (the
 * <module> frame past line 1 says the lines are running lines), an anonymous
 * code object, a name that needs JSON escaping. */
static void
sample_profile(struct profile *p)
{
    profile_init(p, A);
    uint32_t m = fr(p, "app.py", 30, "<module>");
    uint32_t f12 = fr(p, "app.py", 12, "f");
    uint32_t f15 = fr(p, "app.py", 15, "f");
    uint32_t lc = fr(p, "app.py", 20, "<listcomp>");
    uint32_t q = fr(p, "lib/q.py", 3, "q\"<x>");
    add(p, 5, 2, f12, m);
    add(p, 3, 3, f15, f12, m);
    add(p, 2, 3, lc, f12, m);
    add(p, 7, 3, q, f15, m);
    add(p, 1, 1, m);
}

static void
build(struct graph *g, struct profile *p, enum render_granularity gran)
{
    struct render_opts o;
    struct diag d;
    render_opts_init(&o);
    o.granularity = gran;
    CHECK_EQ_INT(graph_build(g, A, p, &o, &d), 0);
}

/* Stacks of a and b as text, one line per stack, in order. */
static char *
stacks_text(const struct profile *p)
{
    struct strbuf sb;
    strbuf_init(&sb, A);
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct stack *s = &p->stacks[i];
        strbuf_addf(&sb, "%llu", (unsigned long long)s->count);
        for (uint32_t k = 0; k < s->depth; k++) {
            const struct frame *f = &p->frames[s->frames[k]];
            strbuf_addf(&sb, " %s:%ld:%s", f->file, f->line, f->func);
        }
        strbuf_addch(&sb, '\n');
    }
    return sb.buf ? sb.buf : "";
}

static void
test_varint(void)
{
    static const uint64_t values[] = {0, 1, 127, 128, 300, 16383, 16384,
                                      UINT32_MAX, (uint64_t)INT64_MAX,
                                      UINT64_MAX};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        struct strbuf sb;
        strbuf_init(&sb, A);
        pb_put_varint(&sb, values[i]);
        const unsigned char *p = (const unsigned char *)sb.buf;
        uint64_t v = 0;
        enum pb_error err = PB_OK;
        CHECK_EQ_INT(pb_read_varint(&p, p + sb.len, &v, &err), 0);
        CHECK(v == values[i]);
        CHECK(p == (const unsigned char *)sb.buf + sb.len);
        /* every shorter prefix is truncated */
        for (size_t n = 0; n < sb.len; n++) {
            p = (const unsigned char *)sb.buf;
            CHECK_EQ_INT(pb_read_varint(&p, p + n, &v, &err), -1);
            CHECK_EQ_INT(err, PB_ERR_TRUNCATED);
        }
    }
    static const unsigned char eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80,
                                           0x80, 0x80, 0x80, 0x80, 0x80,
                                           0x01};
    const unsigned char *p = eleven;
    uint64_t v;
    enum pb_error err = PB_OK;
    CHECK_EQ_INT(pb_read_varint(&p, eleven + sizeof(eleven), &v, &err), -1);
    CHECK_EQ_INT(err, PB_ERR_VARINT);
    /* a tenth byte above 1 overflows 64 bits */
    static const unsigned char over[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0x02};
    p = over;
    CHECK_EQ_INT(pb_read_varint(&p, over + sizeof(over), &v, &err), -1);
    CHECK_EQ_INT(err, PB_ERR_VARINT);
}

static void
test_fields(void)
{
    struct strbuf sb;
    strbuf_init(&sb, A);
    uint64_t packed[3] = {1, 300, 2};
    pb_put_uint(&sb, 1, 150);
    pb_put_uint(&sb, 2, 0);             /* default: not written */
    pb_put_bytes(&sb, 3, "abc", 3);
    pb_put_packed(&sb, 4, packed, 3);
    static const unsigned char want[] = {0x08, 0x96, 0x01, 0x1a, 3, 'a',
                                         'b', 'c', 0x22, 4, 1, 0xac, 0x02,
                                         2};
    CHECK_EQ_INT(sb.len, sizeof(want));
    CHECK(memcmp(sb.buf, want, sizeof(want)) == 0);

    struct pb_reader r;
    struct pb_field f;
    enum pb_error err;
    size_t off;
    pb_reader_init(&r, sb.buf, sb.len);
    CHECK_EQ_INT(pb_next(&r, &f, &err, &off), 1);
    CHECK(f.number == 1 && f.wire == PB_VARINT && f.value == 150);
    CHECK_EQ_INT(pb_next(&r, &f, &err, &off), 1);
    CHECK(f.number == 3 && f.wire == PB_LEN && f.len == 3
          && memcmp(f.data, "abc", 3) == 0);
    CHECK_EQ_INT(f.offset, 3);
    CHECK_EQ_INT(pb_next(&r, &f, &err, &off), 1);
    CHECK(f.number == 4 && f.len == 4);
    CHECK_EQ_INT(pb_next(&r, &f, &err, &off), 0);

    /* a length past the end, a group, field 0 */
    static const unsigned char longlen[] = {0x1a, 5, 'a'};
    pb_reader_init(&r, longlen, sizeof(longlen));
    CHECK_EQ_INT(pb_next(&r, &f, &err, &off), -1);
    CHECK_EQ_INT(err, PB_ERR_TRUNCATED);
    static const unsigned char group[] = {0x0b};
    pb_reader_init(&r, group, 1);
    CHECK_EQ_INT(pb_next(&r, &f, &err, &off), -1);
    CHECK_EQ_INT(err, PB_ERR_WIRE);
    static const unsigned char zero[] = {0x00, 0x01};
    pb_reader_init(&r, zero, 2);
    CHECK_EQ_INT(pb_next(&r, &f, &err, &off), -1);
    CHECK_EQ_INT(err, PB_ERR_FIELD);
}

static int
read_back(struct profile *q, const char *buf, size_t len, struct diag *d)
{
    profile_init(q, A);
    d->kind = DIAG_NONE;
    d->msg[0] = '\0';
    return parse_pprof(q, "t.pb.gz", buf, len, d);
}

static void
test_round_trip(void)
{
    for (int gran = 0; gran < 2; gran++) {
        struct profile p, q;
        struct graph g;
        struct diag d;
        sample_profile(&p);
        build(&g, &p, gran ? RENDER_GRAN_LINE : RENDER_GRAN_FUNCTION);
        const char *comments[] = {"plop-render test", "input: x.out"};
        struct pprof_meta m = {10000000, comments, 2};
        struct strbuf out;
        strbuf_init(&out, A);
        CHECK_EQ_INT(pprof_write(&out, &g, &m, &d), 0);
        CHECK((unsigned char)out.buf[0] == 0x1f
              && (unsigned char)out.buf[1] == 0x8b);
        /* no time stamp in the gzip header */
        CHECK(out.buf[4] == 0 && out.buf[5] == 0 && out.buf[6] == 0
              && out.buf[7] == 0);
        CHECK(pprof_sniff(out.buf, out.len));
        CHECK_EQ_INT(read_back(&q, out.buf, out.len, &d), 0);
        CHECK_STR(stacks_text(&q), stacks_text(&p));
        CHECK_EQ_INT(q.total, 18);
        CHECK_EQ_INT(q.period_ns, 10000000);

        /* the raw message reads back the same, and is sniffed */
        struct strbuf raw;
        strbuf_init(&raw, A);
        CHECK_EQ_INT(pprof_encode(&raw, &g, &m, &d), 0);
        CHECK(pprof_sniff(raw.buf, raw.len));
        CHECK_EQ_INT(read_back(&q, raw.buf, raw.len, &d), 0);
        CHECK_STR(stacks_text(&q), stacks_text(&p));
        /* the same graph gives the same bytes */
        struct strbuf again;
        strbuf_init(&again, A);
        CHECK_EQ_INT(pprof_write(&again, &g, &m, &d), 0);
        CHECK(again.len == out.len
              && memcmp(again.buf, out.buf, out.len) == 0);
    }
}

/* Function granularity: f's two lines share one Function (start line
 * 12), the <listcomp> keeps its own; every frame is a Location. */
static void
test_functions_and_locations(void)
{
    struct profile p;
    struct graph g;
    struct diag d;
    sample_profile(&p);
    build(&g, &p, RENDER_GRAN_FUNCTION);
    struct pprof_meta m = {1000, NULL, 0};
    struct strbuf raw;
    strbuf_init(&raw, A);
    CHECK_EQ_INT(pprof_encode(&raw, &g, &m, &d), 0);
    struct pb_reader r;
    struct pb_field f;
    enum pb_error err;
    size_t off;
    int nfn = 0, nloc = 0, nsample = 0, nstr = 0, ncomment = 0;
    uint64_t period = 0;
    pb_reader_init(&r, raw.buf, raw.len);
    while (pb_next(&r, &f, &err, &off) == 1) {
        nfn += f.number == 5;
        nloc += f.number == 4;
        nsample += f.number == 2;
        nstr += f.number == 6;
        ncomment += f.number == 13;
        if (f.number == 12) {
            period = f.value;
        }
    }
    CHECK_EQ_INT(nfn, 4);           /* <module>, f, <listcomp>, q */
    CHECK_EQ_INT(nloc, 5);
    CHECK_EQ_INT(nsample, 5);
    /* "", samples, count, cpu, nanoseconds, 4 names, 2 files */
    CHECK_EQ_INT(nstr, 11);
    CHECK_EQ_INT(ncomment, 0);
    CHECK_EQ_INT(period, 1000);

    /* cpu values are count x period */
    struct profile q;
    CHECK_EQ_INT(read_back(&q, raw.buf, raw.len, &d), 0);
    CHECK_EQ_INT(q.total, 18);
}

static void
test_focus_applies(void)
{
    struct profile p, q;
    struct graph g;
    struct diag d;
    struct render_opts o;
    sample_profile(&p);
    render_opts_init(&o);
    CHECK_EQ_INT(regcomp(&o.focus_re, "listcomp", REG_EXTENDED | REG_NOSUB),
                 0);
    o.has_focus = 1;
    CHECK_EQ_INT(graph_build(&g, A, &p, &o, &d), 0);
    regfree(&o.focus_re);
    struct pprof_meta m = {1, NULL, 0};
    struct strbuf out;
    strbuf_init(&out, A);
    CHECK_EQ_INT(pprof_write(&out, &g, &m, &d), 0);
    CHECK_EQ_INT(read_back(&q, out.buf, out.len, &d), 0);
    CHECK_STR(stacks_text(&q),
              "2 app.py:20:<listcomp> app.py:12:f app.py:30:<module>\n");
}

static void
test_overflow(void)
{
    struct profile p;
    struct graph g;
    struct diag d;
    sample_profile(&p);
    build(&g, &p, RENDER_GRAN_FUNCTION);
    struct pprof_meta m = {(uint64_t)INT64_MAX / 6, NULL, 0};
    struct strbuf out;
    strbuf_init(&out, A);
    CHECK_EQ_INT(pprof_encode(&out, &g, &m, &d), -1);
    CHECK_EQ_INT(d.kind, DIAG_USAGE);
    CHECK(strstr(d.msg, "does not fit") != NULL);
}

/* Hand-made messages: each must fail with its message, exit kind PARSE. */
static void
expect_error(const void *buf, size_t len, const char *want)
{
    struct profile q;
    struct diag d;
    CHECK_EQ_INT(read_back(&q, buf, len, &d), -1);
    CHECK_EQ_INT(d.kind, DIAG_PARSE);
    if (strstr(d.msg, want) == NULL) {
        fprintf(stderr, "  got: %s  want: %s\n", d.msg, want);
        CHECK(strstr(d.msg, want) != NULL);
    }
    CHECK(strncmp(d.msg, "t.pb.gz: error: ", 16) == 0);
}

/* Appends a message field: tag, length, bytes. */
static void
msg(struct strbuf *sb, uint32_t field, const unsigned char *b, size_t n)
{
    pb_put_bytes(sb, field, b, n);
}

/* A valid minimal profile: string table "", "f", "count"; sample type
 * (2, 2); function 1 named 1; location 1 -> function 1 line 7. */
static void
minimal(struct strbuf *sb, const unsigned char *sample, size_t nsample)
{
    static const unsigned char st[] = {0x08, 2, 0x10, 2};
    static const unsigned char fn[] = {0x08, 1, 0x10, 1};
    static const unsigned char loc[] = {0x08, 1, 0x22, 4, 0x08, 1, 0x10,
                                        7};
    strbuf_init(sb, A);
    msg(sb, 1, st, sizeof(st));
    msg(sb, 2, sample, nsample);
    msg(sb, 5, fn, sizeof(fn));
    msg(sb, 4, loc, sizeof(loc));
    msg(sb, 6, (const unsigned char *)"", 0);
    msg(sb, 6, (const unsigned char *)"f", 1);
    msg(sb, 6, (const unsigned char *)"count", 5);
}

static void
test_bad_input(void)
{
    struct strbuf sb;
    struct profile q;
    struct diag d;
    static const unsigned char ok[] = {0x0a, 1, 1, 0x12, 1, 4};
    minimal(&sb, ok, sizeof(ok));
    CHECK_EQ_INT(read_back(&q, sb.buf, sb.len, &d), 0);
    CHECK_STR(stacks_text(&q), "4 :7:f\n");

    /* a label (field 3) and an unknown field are skipped */
    static const unsigned char label[] = {0x0a, 1, 1, 0x1a, 0, 0x12, 1, 4,
                                          0x78, 9};
    minimal(&sb, label, sizeof(label));
    CHECK_EQ_INT(read_back(&q, sb.buf, sb.len, &d), 0);
    CHECK_STR(stacks_text(&q), "4 :7:f\n");

    /* unpacked repeated fields are read too */
    static const unsigned char unpacked[] = {0x08, 1, 0x08, 1, 0x10, 3};
    minimal(&sb, unpacked, sizeof(unpacked));
    CHECK_EQ_INT(read_back(&q, sb.buf, sb.len, &d), 0);
    CHECK_STR(stacks_text(&q), "3 :7:f :7:f\n");

    static const unsigned char noloc[] = {0x0a, 1, 9, 0x12, 1, 4};
    minimal(&sb, noloc, sizeof(noloc));
    expect_error(sb.buf, sb.len, "names location 9, which is not defined");

    static const unsigned char neg[] = {0x0a, 1, 1, 0x10, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0x01};
    minimal(&sb, neg, sizeof(neg));
    expect_error(sb.buf, sb.len, "sample value -1 is negative");

    static const unsigned char twovals[] = {0x0a, 1, 1, 0x12, 2, 4, 5};
    minimal(&sb, twovals, sizeof(twovals));
    expect_error(sb.buf, sb.len, "a sample has 2 values for 1 sample types");

    static const unsigned char badvarint[] = {0x0a, 2, 0x81, 0x81};
    minimal(&sb, badvarint, sizeof(badvarint));
    expect_error(sb.buf, sb.len, "the data ends inside a field");

    /* a string index past the table */
    static const unsigned char st[] = {0x08, 2, 0x10, 9};
    strbuf_init(&sb, A);
    msg(&sb, 1, st, sizeof(st));
    msg(&sb, 6, (const unsigned char *)"", 0);
    msg(&sb, 6, (const unsigned char *)"a", 1);
    msg(&sb, 6, (const unsigned char *)"b", 1);
    expect_error(sb.buf, sb.len, "a value type names string 9, but the "
                 "string table has 3 strings");

    /* the first string must be empty */
    strbuf_init(&sb, A);
    msg(&sb, 6, (const unsigned char *)"x", 1);
    expect_error(sb.buf, sb.len, "first string of the string table");

    /* a line naming an undefined function */
    static const unsigned char loc[] = {0x08, 1, 0x22, 2, 0x08, 5};
    strbuf_init(&sb, A);
    msg(&sb, 4, loc, sizeof(loc));
    msg(&sb, 6, (const unsigned char *)"", 0);
    expect_error(sb.buf, sb.len, "a line names function 5, which is not "
                 "defined");

    /* a varint of 11 bytes at the top level, at byte 0 */
    static const unsigned char eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80,
                                           0x80, 0x80, 0x80, 0x80, 0x80,
                                           0x01};
    expect_error(eleven, sizeof(eleven), "pprof byte 0: malformed protobuf: "
                 "varint longer than 10 bytes");

    /* a field of the wrong wire type */
    static const unsigned char wrong[] = {0x60, 5, 0x62, 0};
    expect_error(wrong, sizeof(wrong), "pprof byte 2: the period is "
                 "length-delimited, expected a varint");
}

static void
test_gzip_errors(void)
{
    struct profile p;
    struct graph g;
    struct diag d;
    sample_profile(&p);
    build(&g, &p, RENDER_GRAN_FUNCTION);
    struct pprof_meta m = {1, NULL, 0};
    struct strbuf out;
    strbuf_init(&out, A);
    CHECK_EQ_INT(pprof_write(&out, &g, &m, &d), 0);
    /* every truncation of the gzip file is an error, never a crash */
    for (size_t n = 2; n < out.len; n += n < 40 ? 1 : 17) {
        struct profile q;
        CHECK_EQ_INT(read_back(&q, out.buf, n, &d), -1);
        CHECK_EQ_INT(d.kind, DIAG_PARSE);
    }
    expect_error(out.buf, out.len - 1, "truncated gzip data");
    /* a flipped byte in the deflate data or the CRC */
    char *bad = arena_alloc(A, out.len);
    memcpy(bad, out.buf, out.len);
    bad[out.len - 6] ^= 0x55;
    expect_error(bad, out.len, "corrupt gzip data");
    /* trailing garbage */
    char *more = arena_alloc(A, out.len + 3);
    memcpy(more, out.buf, out.len);
    memcpy(more + out.len, "abc", 3);
    expect_error(more, out.len + 3, "3 bytes of garbage after the gzip");
}

static void
test_sniff(void)
{
    CHECK(!pprof_sniff("", 0));
    CHECK(!pprof_sniff("{('a', 1, 'f'),): 1}", 20));
    CHECK(!pprof_sniff("\nmain;f 3\n", 10));
    CHECK(!pprof_sniff("\x01\x02\x03", 3));
    CHECK(pprof_sniff("\x1f\x8b", 2));
    CHECK(pprof_sniff("\x0a\x04\x08\x01\x10\x02", 6));
}

static void
test_speedscope(void)
{
    struct profile p;
    struct graph g;
    struct diag d;
    sample_profile(&p);
    build(&g, &p, RENDER_GRAN_FUNCTION);
    const char *inputs[] = {"/tmp/a.out", "b.out"};
    size_t ends[] = {3, 5};
    struct speedscope_meta m = {"t<itle>", "plop-render test", inputs, 0,
                                ends, 2};
    struct strbuf out;
    strbuf_init(&out, A);
    CHECK_EQ_INT(speedscope_write(&out, &g, &m, &d), 0);
    /* frames in node order: app.py <listcomp>, <module>, f; lib/q.py */
    const char *want =
        "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
        "\n\"shared\":{\"frames\":["
        "\n{\"name\":\"\\u003clistcomp\\u003e\",\"file\":\"app.py\","
        "\"line\":20},"
        "\n{\"name\":\"\\u003cmodule\\u003e\",\"file\":\"app.py\","
        "\"line\":30},"
        "\n{\"name\":\"f\",\"file\":\"app.py\",\"line\":12},"
        "\n{\"name\":\"q\\\"\\u003cx\\u003e\",\"file\":\"lib/q.py\","
        "\"line\":3}]},"
        "\n\"profiles\":["
        "\n{\"type\":\"sampled\",\"name\":\"a.out\",\"unit\":\"none\","
        "\"startValue\":0,\"endValue\":10,"
        "\n\"samples\":[\n[1,2],\n[1,2,2],\n[1,2,0]],"
        "\n\"weights\":[5,3,2]},"
        "\n{\"type\":\"sampled\",\"name\":\"b.out\",\"unit\":\"none\","
        "\"startValue\":0,\"endValue\":8,"
        "\n\"samples\":[\n[1,2,3],\n[1]],"
        "\n\"weights\":[7,1]}],"
        "\n\"name\":\"t\\u003citle\\u003e\",\"activeProfileIndex\":0,"
        "\"exporter\":\"plop-render test\"}\n";
    CHECK_STR(out.buf, want);
}

int
main(void)
{
    A = arena_new();
    RUN(test_varint);
    RUN(test_fields);
    RUN(test_round_trip);
    RUN(test_functions_and_locations);
    RUN(test_focus_applies);
    RUN(test_overflow);
    RUN(test_bad_input);
    RUN(test_gzip_errors);
    RUN(test_sniff);
    RUN(test_speedscope);
    arena_free(A);
    return check_report();
}
