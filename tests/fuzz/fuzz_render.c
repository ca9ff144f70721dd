/*
 * fuzz_render.c: libFuzzer harness over plop-render's whole input path:
 * format detection and the parser it picks (repr, collapsed or pprof),
 * the other text parser forced on the same bytes, then, for a profile that parsed, the call graph at both
 * granularities, pruning (the default budget and a hard limit of 3), the
 * summary and hidden lines, and the writers that need no Graphviz: text,
 * the HTML report (with a stand-in for the call graph's SVG) and the
 * flame SVG.  Layout (Graphviz) is left out: it is slow and not ours.
 *
 * Besides the sanitizers, it checks the contracts of profile.h and
 * diag.h and aborts on a violation: a parse error is one DIAG_PARSE
 * message "fuzz:L:C: error: ..." ending in a caret line (pprof's: one
 * line "fuzz: error: ..."); a parsed profile
 * has valid frame ids, depths >= 1, counts >= 1, a total equal to the sum
 * of its counts and valid UTF-8 names without NUL bytes; the graph's self
 * counts add up to the total; shown nodes and edges are consistent
 * (ranks, shown self, bridged edges' hidden frame counts); the writers'
 * output is valid UTF-8, the text report free of control characters.  A profile with two-count lines (the
 * differential format) is also compared (diff.h): each side's self counts
 * add up to that side's total, the graph is rewritten to the new side,
 * and the text and Markdown writers run on it.  Every input also goes
 * through the pprof reader (whatever detection says), and every profile
 * that parsed (not a comparison) is written as pprof and read back: the
 * same stacks, frames and counts must come out.
 *
 * Build and run: make fuzz FUZZ_SECONDS=60 (tests/fuzz/run).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diff.h"
#include "flame.h"
#include "graph.h"
#include "html.h"
#include "load.h"
#include "md.h"
#include "opts.h"
#include "pprof.h"
#include "present.h"
#include "profile.h"
#include "strbuf.h"
#include "text.h"

#define EXPECT(cond)                                                       \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "fuzz_render: contract broken: %s (line %d)\n", \
                    #cond, __LINE__);                                      \
            abort();                                                       \
        }                                                                  \
    } while (0)

static int
valid_utf8(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        size_t need;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        else if (c >= 0xc2 && c <= 0xdf) {
            need = 2;
            cp = c & 0x1f;
        }
        else if (c >= 0xe0 && c <= 0xef) {
            need = 3;
            cp = c & 0x0f;
        }
        else if (c >= 0xf0 && c <= 0xf4) {
            need = 4;
            cp = c & 0x07;
        }
        else {
            return 0;
        }
        if (n - i < need) {
            return 0;
        }
        for (size_t k = 1; k < need; k++) {
            if ((u[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (u[i + k] & 0x3f);
        }
        if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
            || (need == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
            return 0;
        }
        i += need;
    }
    return 1;
}

static void
check_diag(const struct diag *d)
{
    EXPECT(d->kind == DIAG_PARSE);
    EXPECT(strncmp(d->msg, "fuzz:", 5) == 0);
    EXPECT(strstr(d->msg, ": error: ") != NULL);
    size_t n = strlen(d->msg);
    if (strncmp(d->msg, "fuzz: error: ", 13) == 0) {
        /* pprof (binary): one line, no source line to show */
        EXPECT(n >= 2 && d->msg[n - 1] == '\n'
               && strchr(d->msg, '\n') == d->msg + n - 1);
        return;
    }
    EXPECT(n >= 2 && d->msg[n - 1] == '\n' && d->msg[n - 2] == '^');
}

static void
check_profile(const struct profile *p)
{
    uint64_t sum = 0;
    uint32_t maxd = 0;
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct stack *s = &p->stacks[i];
        EXPECT(s->depth >= 1 && s->depth <= PROFILE_MAX_DEPTH);
        EXPECT(s->count >= 1 && s->count <= PROFILE_MAX_COUNT);
        for (uint32_t k = 0; k < s->depth; k++) {
            EXPECT(s->frames[k] < p->nframes);
        }
        sum += s->count;
        maxd = s->depth > maxd ? s->depth : maxd;
    }
    EXPECT(sum == p->total);
    EXPECT(sum <= PROFILE_MAX_TOTAL);
    EXPECT(p->side_total[0] + p->side_total[1] == p->total);
    EXPECT(p->has_pairs || p->side_total[0] == 0);
    EXPECT(maxd == p->max_depth);
    for (uint32_t i = 0; i < p->nframes; i++) {
        const struct frame *f = &p->frames[i];
        EXPECT(strlen(f->file) == f->file_len);
        EXPECT(strlen(f->func) == f->func_len);
        EXPECT(valid_utf8(f->file, f->file_len));
        EXPECT(valid_utf8(f->func, f->func_len));
        EXPECT(f->line >= 0 && f->line <= PROFILE_MAX_LINE);
    }
}

/* What graph_prune() promises about the shown nodes and edges. */
static void
check_shown(const struct graph *g)
{
    uint64_t self = 0;
    for (uint32_t r = 0; r < g->nshown; r++) {
        EXPECT(g->shown[r] < g->nnodes);
        EXPECT(g->nodes[g->shown[r]].shown_rank == r);
        self += g->nodes[g->shown[r]].self;
    }
    EXPECT(self == g->shown_self && self <= g->total);
    EXPECT(g->nshown + g->dropped_nodes == g->nnodes);
    for (size_t i = 0; i < g->nshown_edges; i++) {
        const struct graph_edge *e = &g->shown_edges[i];
        EXPECT(g->nodes[e->from].shown_rank != GRAPH_NO_NODE);
        EXPECT(g->nodes[e->to].shown_rank != GRAPH_NO_NODE);
        EXPECT(e->weight <= g->total);
        EXPECT(e->bridged ? e->hidden_min >= 1
                                && e->hidden_min <= e->hidden_max
                          : e->hidden_max == 0);
    }
}

/* The writers that need no Graphviz: text, the HTML report (with a
 * stand-in for the call graph's SVG) and the flame SVG; each gives
 * valid UTF-8, and the SVG is one document. */
static void
check_writers(const struct profile *p, const struct graph *g,
              struct arena *a, const struct render_opts *o)
{
    struct diag d;
    memset(&d, 0, sizeof(d));
    char line[256];
    present_summary(g, line, sizeof(line));
    present_hidden(g, line, sizeof(line));
    EXPECT(valid_utf8(line, strlen(line)));

    struct strbuf sb;
    strbuf_init(&sb, a);
    EXPECT(text_write(&sb, g, o, &d) == 0);
    EXPECT(valid_utf8(sb.buf ? sb.buf : "", sb.len));
    for (size_t i = 0; i < sb.len; i++) {
        unsigned char c = (unsigned char)sb.buf[i];
        EXPECT(c >= 0x20 || c == '\n');
        EXPECT(c != 0x7f);
        EXPECT(!(c == 0xc2 && i + 1 < sb.len
                 && (unsigned char)sb.buf[i + 1] < 0xa0));
    }

    static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\">"
                              "</svg>";
    const char *inputs[] = {"fuzz"};
    struct report_input in = {p, g, svg, sizeof(svg) - 1, inputs, 1, o};
    strbuf_init(&sb, a);
    EXPECT(html_write(&sb, &in, &d) == 0);
    EXPECT(sb.len > 0 && valid_utf8(sb.buf, sb.len));
    EXPECT(memmem(sb.buf, sb.len, "</html>", 7) != NULL);

    strbuf_init(&sb, a);
    EXPECT(flame_svg_write(&sb, &in, &d) == 0);
    EXPECT(sb.len > 0 && valid_utf8(sb.buf, sb.len));
    EXPECT(memmem(sb.buf, sb.len, "</svg>", 6) != NULL);
}

static void
check_graph(const struct profile *p, struct arena *a,
            enum render_granularity gran)
{
    struct render_opts o;
    struct graph g;
    struct diag d;
    render_opts_init(&o);
    o.granularity = gran;
    memset(&g, 0, sizeof(g));
    memset(&d, 0, sizeof(d));
    EXPECT(graph_build(&g, a, p, &o, &d) == 0);
    EXPECT(g.total == p->total);
    uint64_t self = 0;
    for (uint32_t i = 0; i < g.nnodes; i++) {
        self += g.nodes[i].self;
        EXPECT(g.nodes[i].incl >= g.nodes[i].self);
        EXPECT(g.nodes[i].incl <= g.total);
    }
    EXPECT(self == g.total);
    graph_prune(&g, a, &o);
    EXPECT(g.nshown <= PRUNE_AUTO_MAX_NODES + PRUNE_AUTO_MAX_LEAVES
           || g.nshown <= (uint32_t)o.max_nodes);
    check_shown(&g);
    check_writers(p, &g, a, &o);

    /* An explicit small budget: a hard limit. */
    o.max_nodes = 3;
    o.max_nodes_given = 1;
    graph_prune(&g, a, &o);
    EXPECT(g.nshown <= 3);
    check_shown(&g);
}

/* pprof_encode() then parse_pprof(): the same stacks, frame for frame. */
static void
check_pprof_round_trip(const struct profile *p, struct arena *a)
{
    struct render_opts o;
    struct graph g;
    struct diag d;
    render_opts_init(&o);
    memset(&d, 0, sizeof(d));
    EXPECT(graph_build(&g, a, p, &o, &d) == 0);
    struct pprof_meta m = {1, NULL, 0};
    struct strbuf sb;
    strbuf_init(&sb, a);
    EXPECT(pprof_encode(&sb, &g, &m, &d) == 0);
    struct profile q;
    profile_init(&q, a);
    EXPECT(parse_pprof(&q, "fuzz", sb.buf ? sb.buf : "", sb.len, &d) == 0);
    EXPECT(q.total == p->total && q.nstacks == p->nstacks);
    EXPECT(q.period_ns == 1);
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct stack *s = &p->stacks[i], *t = &q.stacks[i];
        EXPECT(s->count == t->count && s->depth == t->depth);
        for (uint32_t k = 0; k < s->depth; k++) {
            const struct frame *x = &p->frames[s->frames[k]];
            const struct frame *y = &q.frames[t->frames[k]];
            EXPECT(x->line == y->line && x->file_len == y->file_len
                   && x->func_len == y->func_len
                   && memcmp(x->file, y->file, x->file_len) == 0
                   && memcmp(x->func, y->func, x->func_len) == 0);
        }
    }
}

static void
check_diff(const struct profile *p, struct arena *a)
{
    struct render_opts o;
    struct graph g;
    struct diff df;
    struct diag d;
    render_opts_init(&o);
    memset(&d, 0, sizeof(d));
    EXPECT(graph_build(&g, a, p, &o, &d) == 0);
    diff_build(&df, a, &g, RENDER_DIFF_SHARE);
    EXPECT(df.total[DIFF_BASE] == p->side_total[PROFILE_SIDE_BASE]);
    EXPECT(df.total[DIFF_NEW] == p->side_total[PROFILE_SIDE_NEW]);
    EXPECT(g.total == df.total[DIFF_NEW]);
    uint64_t self[2] = {0, 0};
    for (uint32_t i = 0; i < g.nnodes; i++) {
        for (int s = 0; s < 2; s++) {
            self[s] += df.nodes[i].self[s];
            EXPECT(df.nodes[i].incl[s] >= df.nodes[i].self[s]);
            EXPECT(df.nodes[i].incl[s] <= df.total[s]);
        }
        EXPECT(g.nodes[i].self == df.nodes[i].self[DIFF_NEW]);
    }
    EXPECT(self[0] == df.total[0] && self[1] == df.total[1]);
    diff_pin_changes(&df, &g, a, &o);
    graph_prune(&g, a, &o);
    diff_after_prune(&df, &g, a);
    for (size_t e = 0; e < g.nshown_edges; e++) {
        EXPECT(g.shown_edges[e].weight == df.shown_edge_w[DIFF_NEW][e]);
        EXPECT(df.shown_edge_w[DIFF_BASE][e] <= df.total[DIFF_BASE]);
    }
    struct strbuf sb;
    strbuf_init(&sb, a);
    EXPECT(text_write(&sb, &g, &o, &d) == 0);
    EXPECT(md_write(&sb, &g, &o, &d) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    for (int pass = 0; pass < 3; pass++) {
        struct arena *a = arena_new();
        struct profile p;
        struct diag d;
        memset(&d, 0, sizeof(d));
        profile_init(&p, a);
        enum load_format fmt = 0;
        if (pass == 1) {
            /* The parser detection did not pick. */
            size_t i = 0;
            while (i < size && (buf[i] == ' ' || buf[i] == '\n'
                                || buf[i] == '\t' || buf[i] == '\r')) {
                i++;
            }
            fmt = (i < size && buf[i] == '{') ? LOAD_FORMAT_COLLAPSED
                                              : LOAD_FORMAT_REPR;
        }
        if (pass == 2) {
            fmt = LOAD_FORMAT_PPROF;
        }
        if (load_buffer(&p, "fuzz", buf, size, fmt, &d) < 0) {
            check_diag(&d);
        }
        else {
            check_profile(&p);
            if (pass == 0) {
                check_graph(&p, a, RENDER_GRAN_FUNCTION);
                check_graph(&p, a, RENDER_GRAN_LINE);
                if (p.has_pairs) {
                    check_diff(&p, a);
                } else {
                    check_pprof_round_trip(&p, a);
                }
            }
        }
        arena_free(a);
    }
    return 0;
}
