/*
 * text.c: the -T txt report, modelled on `pprof -top`: a header with the
 * totals, then two tables of the top functions, by self samples and by
 * inclusive samples, with a running sum of self % in the first.
 *
 *     self   self%    sum%        incl   incl%  function
 *    1,234  10.0 %   10.0 %      5,678  46.0 %  sort_records (/x/mixed.py:38)
 */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "graph.h"
#include "opts.h"
#include "present.h"
#include "strbuf.h"
#include "text.h"

struct top_order {
    const struct graph *g;
    int by_self;
};

/* Descending by the chosen count, then the other one, then node id.  For
 * glibc's qsort_r; `arg` is a struct top_order. */
static int
top_cmp(const void *pa, const void *pb, void *arg)
{
    const struct top_order *ord = arg;
    int sort_by_self = ord->by_self;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    const struct graph_node *na = &ord->g->nodes[a];
    const struct graph_node *nb = &ord->g->nodes[b];
    uint64_t ka = sort_by_self ? na->self : na->incl;
    uint64_t kb = sort_by_self ? nb->self : nb->incl;
    if (ka != kb) {
        return ka > kb ? -1 : 1;
    }
    ka = sort_by_self ? na->incl : na->self;
    kb = sort_by_self ? nb->incl : nb->self;
    if (ka != kb) {
        return ka > kb ? -1 : 1;
    }
    return (a > b) - (a < b);
}

/* Appends s[0..n) with control bytes replaced by '?'. */
static void
add_clean(struct strbuf *sb, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        strbuf_addch(sb, c < 0x20 || c == 0x7f ? '?' : c);
    }
}

static double
pct(uint64_t v, uint64_t total)
{
    return total ? 100.0 * (double)v / (double)total : 0.0;
}

static void
table(struct strbuf *out, const struct graph *g, uint32_t *ids,
      uint32_t rows, int by_self)
{
    char a[32], b[32];
    struct top_order ord = {g, by_self};
    qsort_r(ids, g->nnodes, sizeof(*ids), top_cmp, &ord);
    strbuf_addf(out, "\ntop %u by %s samples:\n", rows,
                by_self ? "self" : "inclusive");
    strbuf_addf(out, "%14s %7s %7s %14s %7s  %s\n", "self", "self%", "sum%",
                "incl", "incl%", "function (file:line)");
    uint64_t sum = 0;
    for (uint32_t r = 0; r < rows; r++) {
        const struct graph_node *n = &g->nodes[ids[r]];
        sum += n->self;
        strbuf_addf(out, "%14s %6.1f%% %6.1f%% %14s %6.1f%%  ",
                    present_count(n->self, a), pct(n->self, g->total),
                    pct(sum, g->total), present_count(n->incl, b),
                    pct(n->incl, g->total));
        add_clean(out, n->func, n->func_len);
        strbuf_addstr(out, " (");
        add_clean(out, n->file, n->file_len);
        strbuf_addf(out, ":%ld)\n", n->line);
    }
}

int
text_write(struct strbuf *out, const struct graph *g,
           const struct render_opts *o, struct diag *d)
{
    char a[32], b[32], c[32];
    const char *unit = g->granularity == RENDER_GRAN_LINE ? "lines"
                                                          : "functions";
    strbuf_addf(out, "total: %s samples in %s stacks, %s %s\n",
                present_count(g->total, a),
                present_count(g->nstacks_kept, b),
                present_count(g->nnodes, c), unit);
    if (g->total != g->profile_total) {
        strbuf_addf(out, "(%s samples before --focus/--ignore)\n",
                    present_count(g->profile_total, a));
    }
    uint32_t rows = g->nnodes;
    if (o->max_nodes > 0 && rows > (uint32_t)o->max_nodes) {
        rows = (uint32_t)o->max_nodes;
    }
    if (g->nnodes == 0) {
        return 0;
    }
    uint32_t *ids = arena_alloc(out->arena, g->nnodes * sizeof(*ids));
    for (uint32_t i = 0; i < g->nnodes; i++) {
        ids[i] = i;
    }
    table(out, g, ids, rows, 1);
    table(out, g, ids, rows, 0);
    return 0;
}
