/*
 * md.c: the -T md summary (see md.h), in GitHub Flavored Markdown: ATX
 * headings, pipe tables, and backslash escapes for the ASCII punctuation
 * that means something there (emphasis, code, links, HTML, entities,
 * tables, math, mentions).  The same graph and options give the
 * same bytes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "budget.h"
#include "diff.h"
#include "graph.h"
#include "present.h"
#include "md.h"
#include "opts.h"
#include "strbuf.h"

/* Appends s[0..n) as Markdown text: ASCII punctuation backslash-escaped,
 * control bytes as '?'. */
static void
add_md(struct strbuf *sb, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            strbuf_addch(sb, '?');
            continue;
        }
        if (c < 0x80 && strchr("\\`*_{}[]()<>#+!|~&$@", c) != NULL) {
            strbuf_addch(sb, '\\');
        }
        strbuf_addch(sb, c);
    }
}

/* s as a code span (its '|' escaped, as GFM tables want even there),
 * or as escaped text when it holds a backtick or a control byte. */
static void
add_code(struct strbuf *sb, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '`' || (unsigned char)*p < 0x20 || *p == 0x7f) {
            add_md(sb, s, strlen(s));
            return;
        }
    }
    strbuf_addch(sb, '`');
    for (const char *p = s; *p; p++) {
        if (*p == '|') {
            strbuf_addch(sb, '\\');
        }
        strbuf_addch(sb, *p);
    }
    strbuf_addch(sb, '`');
}

static void
add_md_str(struct strbuf *sb, const char *s)
{
    add_md(sb, s, strlen(s));
}

static const char *
input_name(const char *path)
{
    return present_title(NULL, &path, 1);
}

static double
pct(uint64_t v, uint64_t total)
{
    return total ? 100.0 * (double)v / (double)total : 0.0;
}

/* "func" and "file.py:12" cells of node id. */
static void
add_function_cells(struct strbuf *out, const struct graph *g, uint32_t id)
{
    const struct graph_node *n = &g->nodes[id];
    char loc[256];
    strbuf_addstr(out, "| ");
    add_md(out, n->func, n->func_len);
    strbuf_addstr(out, " | ");
    if (n->file_len > 0) {
        present_short_loc(n, loc, sizeof(loc));
        add_md_str(out, loc);
    }
    strbuf_addstr(out, " |");
}

static void
header(struct strbuf *out, const struct graph *g, const struct render_opts *o)
{
    char a[32], b[32], c[32];
    strbuf_addstr(out, "## plop: ");
    add_md_str(out, present_title(o->title, o->inputs, o->ninputs));
    if (o->title == NULL && o->ninputs > 0) {
        if (o->nbases > 0) {
            strbuf_addstr(out, " compared with ");
            add_md_str(out, input_name(o->bases[0]));
        }
    }
    strbuf_addstr(out, "\n\n");
    strbuf_addf(out, "**%s samples** in %s stacks, %s %s",
                present_count(g->total, a),
                present_count(g->nstacks_kept, b),
                present_count(g->nnodes, c),
                g->granularity == RENDER_GRAN_LINE ? "lines" : "functions");
    if (g->total != g->profile_total) {
        strbuf_addf(out, " (%s before --focus/--ignore)",
                    present_count(g->profile_total, a));
    }
    strbuf_addstr(out, "\n");
    if (g->diff != NULL) {
        const struct diff *df = g->diff;
        strbuf_addf(out, "\ncompared with a base of **%s samples**; %s\n",
                    present_count(df->total[DIFF_BASE], a),
                    df->mode == RENDER_DIFF_ABSOLUTE
                        ? "changes in samples"
                        : "changes in points of each side's share of its "
                          "own total");
    }
}

static void
budgets(struct strbuf *out, const struct render_opts *o)
{
    if (o->nbudgets == 0) {
        return;
    }
    int nbroken = 0;
    for (int i = 0; i < o->nbudgets; i++) {
        nbroken += o->budgets[i].broken;
    }
    strbuf_addf(out, "\n### Budgets: %d of %d broken\n\n", nbroken,
                o->nbudgets);
    strbuf_addstr(out, "| fail if | measured | limit | result |\n"
                       "|---|---:|---:|---|\n");
    for (int i = 0; i < o->nbudgets; i++) {
        const struct budget *b = &o->budgets[i];
        const char *unit = budget_unit(b);
        strbuf_addstr(out, "| ");
        add_code(out, b->text);
        char v[48];
        budget_format_value(b, b->value, v, sizeof(v));
        strbuf_addf(out, " | %s", v);
        strbuf_addf(out, " %s | ", unit);
        add_md(out, b->limit_text, b->limit_len);
        strbuf_addf(out, " %s | %s |\n", unit,
                    b->broken ? "\xe2\x9d\x8c fail" : "\xe2\x9c\x85 pass");
    }
}

static void
changes(struct strbuf *out, const struct graph *g, struct arena *a)
{
    const struct diff *df = g->diff;
    uint32_t *ids = diff_order_by_change(df, g, a);
    const char *unit = df->mode == RENDER_DIFF_ABSOLUTE ? "" : " %";
    for (int up = 1; up >= 0; up--) {
        strbuf_addf(out, "\n### Largest %s\n\n",
                    up ? "increases" : "decreases");
        int rows = 0;
        for (uint32_t k = 0; k < g->nnodes && rows < MD_ROWS; k++) {
            uint32_t id = up ? ids[k] : ids[g->nnodes - 1 - k];
            const struct diff_node *n = &df->nodes[id];
            double ch = diff_change(df, n->self[DIFF_BASE], n->self[DIFF_NEW]);
            if ((up ? ch <= 0 : ch >= 0)) {
                break;
            }
            if (!diff_significant(df, n->self[DIFF_BASE],
                                  n->self[DIFF_NEW])) {
                continue;
            }
            if (rows == 0) {
                strbuf_addf(out, "| function | location | self before | "
                            "self now | change | incl change |\n"
                            "|---|---|---:|---:|---:|---:|\n");
            }
            add_function_cells(out, g, id);
            if (df->mode == RENDER_DIFF_ABSOLUTE) {
                char x[32], y[32];
                strbuf_addf(out, " %s | %s | %+.0f | %+.0f |\n",
                            present_count(n->self[DIFF_BASE], x),
                            present_count(n->self[DIFF_NEW], y), ch,
                            diff_change(df, n->incl[DIFF_BASE],
                                        n->incl[DIFF_NEW]));
            } else {
                strbuf_addf(out, " %.1f%s | %.1f%s | %+.1f | %+.1f |\n",
                            diff_value(df, DIFF_BASE, n->self[DIFF_BASE]),
                            unit, diff_value(df, DIFF_NEW,
                                             n->self[DIFF_NEW]), unit,
                            round(ch * 10) / 10 + 0.0,
                            round(diff_change(df, n->incl[DIFF_BASE],
                                              n->incl[DIFF_NEW]) * 10) / 10
                                + 0.0);
            }
            rows++;
        }
        if (rows == 0) {
            strbuf_addstr(out, "none beyond sampling noise\n");
        }
    }
}

struct top_ctx {
    const struct graph *g;
    int by_self;
};

static int
top_cmp(const void *pa, const void *pb, void *arg)
{
    const struct top_ctx *c = arg;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    const struct graph_node *na = &c->g->nodes[a], *nb = &c->g->nodes[b];
    uint64_t ka = c->by_self ? na->self : na->incl;
    uint64_t kb = c->by_self ? nb->self : nb->incl;
    if (ka != kb) {
        return ka > kb ? -1 : 1;
    }
    ka = c->by_self ? na->incl : na->self;
    kb = c->by_self ? nb->incl : nb->self;
    if (ka != kb) {
        return ka > kb ? -1 : 1;
    }
    return (a > b) - (a < b);
}

static void
top(struct strbuf *out, const struct graph *g, uint32_t *ids, int by_self)
{
    struct top_ctx c = {g, by_self};
    qsort_r(ids, g->nnodes, sizeof(*ids), top_cmp, &c);
    strbuf_addf(out, "\n### Top functions by %s samples\n\n"
                "| function | location | self | incl |\n"
                "|---|---|---:|---:|\n", by_self ? "self" : "inclusive");
    for (uint32_t r = 0; r < g->nnodes && r < MD_ROWS; r++) {
        const struct graph_node *n = &g->nodes[ids[r]];
        if ((by_self ? n->self : n->incl) == 0) {
            break;      /* nothing more to list (or vanished functions) */
        }
        add_function_cells(out, g, ids[r]);
        strbuf_addf(out, " %.1f %% | %.1f %% |\n", pct(n->self, g->total),
                    pct(n->incl, g->total));
    }
}

int
md_write(struct strbuf *out, const struct graph *g,
         const struct render_opts *o, struct diag *d)
{
    header(out, g, o);
    budgets(out, o);
    if (g->nnodes == 0) {
        return 0;
    }
    if (g->diff != NULL) {
        changes(out, g, out->arena);
    }
    uint32_t *ids = arena_alloc(out->arena, g->nnodes * sizeof(*ids));
    for (uint32_t i = 0; i < g->nnodes; i++) {
        ids[i] = i;
    }
    top(out, g, ids, 1);
    top(out, g, ids, 0);
    return 0;
}
