/*
 * text.c: the -T txt report, modelled on `pprof -top`: a header with the
 * totals, then two tables of the top functions, by self samples and by
 * inclusive samples, with a running sum of self % in the first.
 *
 *     self   self%    sum%        incl   incl%  function
 *    1,234  10.0 %   10.0 %      5,678  46.0 %  sort_records (/x/mixed.py:38)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diff.h"
#include "graph.h"
#include "opts.h"
#include "present.h"
#include "strbuf.h"
#include "text.h"
#include "utf8.h"

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

/* Appends s[0..n) (valid UTF-8: profile names are) with control
 * characters, C1 ones included, replaced by '?'. */
static void
add_clean(struct strbuf *sb, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_valid_len(u + i, n - i);
        k = k ? k : 1;
        if (utf8_is_control(u + i, k)) {
            strbuf_addch(sb, '?');
        } else {
            strbuf_add(sb, s + i, k);
        }
        i += k;
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
        if (n->file_len > 0) {
            strbuf_addstr(out, " (");
            add_clean(out, n->file, n->file_len);
            strbuf_addf(out, ":%ld)", n->line);
        }
        strbuf_addch(out, '\n');
    }
}

/* A comparison: the base's totals, then the largest increases and
 * decreases of self share beyond noise (diff.h), at most `rows` each. */
static void
changes(struct strbuf *out, const struct graph *g, uint32_t rows)
{
    const struct diff *df = g->diff;
    char a[32];
    int abs = df->mode == RENDER_DIFF_ABSOLUTE;
    strbuf_addf(out, "base: %s samples; changes in %s\n",
                present_count(df->total[DIFF_BASE], a),
                abs ? "samples" : "points of each side's share of its own "
                                  "total");
    uint32_t *ids = diff_order_by_change(df, g, out->arena);
    for (int up = 1; up >= 0; up--) {
        strbuf_addf(out, "\nlargest %s of self %s:\n",
                    up ? "increases" : "decreases", abs ? "samples"
                                                         : "share");
        strbuf_addf(out, "%14s %14s %9s %12s  %s\n", "self before",
                    "self now", "change", "incl change",
                    "function (file:line)");
        uint32_t shown = 0;
        for (uint32_t k = 0; k < g->nnodes && shown < rows; k++) {
            uint32_t id = up ? ids[k] : ids[g->nnodes - 1 - k];
            const struct diff_node *n = &df->nodes[id];
            double ch = diff_change(df, n->self[DIFF_BASE],
                                    n->self[DIFF_NEW]);
            if (up ? ch <= 0 : ch >= 0) {
                break;
            }
            if (!diff_significant(df, n->self[DIFF_BASE],
                                  n->self[DIFF_NEW])) {
                continue;
            }
            double ich = diff_change(df, n->incl[DIFF_BASE],
                                     n->incl[DIFF_NEW]);
            if (abs) {
                char b[32];
                strbuf_addf(out, "%14s %14s %+9.0f %+12.0f  ",
                            present_count(n->self[DIFF_BASE], a),
                            present_count(n->self[DIFF_NEW], b), ch, ich);
            } else {
                strbuf_addf(out, "%12.1f %% %12.1f %% %+9.1f %+12.1f  ",
                            diff_value(df, DIFF_BASE, n->self[DIFF_BASE]),
                            diff_value(df, DIFF_NEW, n->self[DIFF_NEW]),
                            round(ch * 10) / 10 + 0.0,
                            round(ich * 10) / 10 + 0.0);
            }
            const struct graph_node *gn = &g->nodes[id];
            add_clean(out, gn->func, gn->func_len);
            strbuf_addstr(out, " (");
            add_clean(out, gn->file, gn->file_len);
            strbuf_addf(out, ":%ld)\n", gn->line);
            shown++;
        }
        if (shown == 0) {
            strbuf_addstr(out, "  (none beyond sampling noise)\n");
        }
    }
}

int
text_write(struct strbuf *out, const struct graph *g,
           const struct render_opts *o, struct diag *d)
{
    char a[48], b[32], c[32];
    const char *unit = g->granularity == RENDER_GRAN_LINE ? "line"
                                                          : "function";
    strbuf_addf(out, "total: %s in %s stack%s, %s %s%s\n",
                present_samples(g->total, a),
                present_count(g->nstacks_kept, b),
                g->nstacks_kept == 1 ? "" : "s",
                present_count(g->nnodes, c), unit, g->nnodes == 1 ? "" : "s");
    if (g->total != g->profile_total) {
        strbuf_addf(out, "(%s before --focus/--ignore)\n",
                    present_samples(g->profile_total, a));
    }
    uint32_t rows = g->nnodes;
    if (o->max_nodes > 0 && rows > (uint32_t)o->max_nodes) {
        rows = (uint32_t)o->max_nodes;
    }
    if (g->nnodes == 0) {
        return 0;
    }
    if (g->diff != NULL) {
        changes(out, g, rows);
    }
    uint32_t *ids = arena_alloc(out->arena, g->nnodes * sizeof(*ids));
    for (uint32_t i = 0; i < g->nnodes; i++) {
        ids[i] = i;
    }
    table(out, g, ids, rows, 1);
    table(out, g, ids, rows, 0);
    return 0;
}
