/*
 * gv.c: draws the pruned call graph with Graphviz (libgvc + libcgraph,
 * version 2.42 here), in-process: build a cgraph graph, gvLayout "dot",
 * gvRenderData for svg:core, png:cairo, pdf:cairo or canon (DOT).  The
 * only file that includes <gvc.h>, so Graphviz version differences stay
 * here.
 *
 * The plugins are linked in and registered with gvContextPlugins() and
 * lt_preloaded_symbols, as Graphviz's dot.demo/demo.c does, so the binary
 * does not need the plugin config file that only the graphviz package
 * writes.  Every Graphviz allocation is paired as in demo.c: gvContext /
 * gvFreeContext, agopen / agclose, gvLayout / gvFreeLayout, gvRenderData
 * / gvFreeRenderData.
 *
 * Strings in labels and tooltips are Graphviz "escString"s: a backslash
 * starts an escape (\n, \N, \G, ...), so profile text gets its
 * backslashes doubled.  Graphviz's SVG writer escapes <, >, " and ' but
 * passes "&name;" and "&#N;" through as entities, and the pango renderer
 * (PNG, PDF) parses entities too, so '&' is written as "&amp;" for those
 * formats and left alone in DOT text.
 */
#include <gvc.h>
#include <math.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diff.h"
#include "graph.h"
#include "gv.h"
#include "opts.h"
#include "present.h"
#include "profile.h"
#include "strbuf.h"
#include "utf8.h"

extern gvplugin_library_t gvplugin_dot_layout_LTX_library;
extern gvplugin_library_t gvplugin_core_LTX_library;
extern gvplugin_library_t gvplugin_pango_LTX_library;

lt_symlist_t lt_preloaded_symbols[] = {
    {"gvplugin_dot_layout_LTX_library", &gvplugin_dot_layout_LTX_library},
    {"gvplugin_core_LTX_library", &gvplugin_core_LTX_library},
    {"gvplugin_pango_LTX_library", &gvplugin_pango_LTX_library},
    {0, 0}
};

static double last_layout_seconds;

double
gv_layout_seconds(void)
{
    return last_layout_seconds;
}

static double
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Graphviz reports errors through this; the last one goes in the diag. */
static char gv_last_error[512];

static int
gv_error_sink(char *msg)
{
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) {
        n--;
    }
    if (n >= sizeof(gv_last_error)) {
        n = sizeof(gv_last_error) - 1;
    }
    memcpy(gv_last_error, msg, n);
    gv_last_error[n] = '\0';
    return 0;
}

/* Labels keep at most this many bytes of a name, tooltips this many:
 * profiles allow names of up to 1 MB, which no picture should carry. */
#define LABEL_MAX 120
#define TOOLTIP_MAX 2000

/*
 * Appends s[0..n) as Graphviz escString text: backslashes doubled,
 * control bytes as '?', invalid UTF-8 as U+FFFD, and with `amp` '&' as
 * "&amp;".  Past `max` input bytes the text is cut at a character
 * boundary and "..." appended.
 */
static void
add_esc(struct strbuf *sb, const char *s, size_t n, int amp, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (i >= max) {
            strbuf_addstr(sb, "...");
            return;
        }
        size_t l = utf8_valid_len(u + i, n - i);
        if (l == 0) {
            strbuf_addstr(sb, "\xef\xbf\xbd");
            i++;
            continue;
        }
        if (l > 1) {
            strbuf_add(sb, s + i, l);
        } else if (u[i] == '\\') {
            strbuf_addstr(sb, "\\\\");
        } else if (u[i] < 0x20 || u[i] == 0x7f) {
            strbuf_addch(sb, '?');
        } else if (u[i] == '&' && amp) {
            strbuf_addstr(sb, "&amp;");
        } else {
            strbuf_addch(sb, u[i]);
        }
        i += l;
    }
}

/* A NUL-terminated string from the scratch buffer (reused per call). */
static char *
take(struct strbuf *sb)
{
    strbuf_addch(sb, '\0');
    sb->len = 0;
    return sb->buf;
}

static double
pct(uint64_t v, uint64_t total)
{
    return total ? 100.0 * (double)v / (double)total : 0.0;
}

static void
set(void *obj, const char *name, const char *value)
{
    agsafeset(obj, (char *)name, (char *)value, "");
}

#define NSLIMIT_NODES 300

static void
set_graph_attrs(Agraph_t *ag, const struct graph *g,
                const struct render_opts *o, struct strbuf *sb, int amp)
{
    char tot[32], sum[256];
    const char *title = present_title(o->title, o->inputs, o->ninputs);
    add_esc(sb, title, strlen(title), amp, LABEL_MAX);
    if (o->title == NULL && o->ninputs > 1) {
        strbuf_addf(sb, " and %d more", o->ninputs - 1);
    }
    present_summary(g, sum, sizeof(sum));
    strbuf_addf(sb, "\\ltotal %s samples", present_count(g->total, tot));
    if (g->total != g->profile_total) {
        char all[32];
        strbuf_addf(sb, " (of %s before --focus/--ignore)",
                    present_count(g->profile_total, all));
    }
    if (g->diff != NULL) {
        const struct diff *df = g->diff;
        strbuf_addstr(sb, "\\lcompared with ");
        for (int i = 0; i < o->nbases && i < 3; i++) {
            const char *b = present_title(NULL, &o->bases[i], 1);
            add_esc(sb, b, strlen(b), amp, LABEL_MAX);
            strbuf_addstr(sb, i + 1 < o->nbases ? ", " : " ");
        }
        if (o->nbases > 3) {
            strbuf_addf(sb, "and %d more ", o->nbases - 3);
        }
        if (o->nbases == 0) {
            strbuf_addstr(sb, "the first counts ");
        }
        strbuf_addf(sb, "(%s base samples, %s): red grew, "
                    "green shrank, grey held",
                    present_count(df->total[DIFF_BASE], tot),
                    df->mode == RENDER_DIFF_ABSOLUTE ? "changes in samples"
                                                     : "changes in points");
    }
    strbuf_addf(sb, "\\l%s\\l", sum);
    present_hidden(g, sum, sizeof(sum));
    if (sum[0] != '\0') {
        strbuf_addf(sb, "%s\\l", sum);
    }
    set(ag, "label", take(sb));
    set(ag, "labelloc", "t");
    set(ag, "labeljust", "l");
    set(ag, "fontname", "Helvetica");
    set(ag, "fontsize", "16");
    set(ag, "rankdir", "TB");
    set(ag, "nodesep", "0.25");
    set(ag, "ranksep", "0.45");
    /* Bounded effort: network simplex and crossing minimisation stop early
     * on large graphs instead of running away (dot's defaults are
     * unbounded for nslimit).  nslimit 5 instead of 20 cut the layout of an
     * 80-node, 220-edge graph from 0.55 to 0.23 s of CPU with no visible
     * loss.  Network simplex's passes each cost about the number of boxes,
     * so past NSLIMIT_NODES boxes the limit shrinks in proportion (to 1 at
     * the least): 2,500 boxes laid out in 1.1 s instead of 2.9 s, the
     * boxes of a wide fan a little less tidily aligned. */
    double nsl = g->nshown > NSLIMIT_NODES
                 ? 5.0 * NSLIMIT_NODES / (double)g->nshown : 5.0;
    char nsbuf[32];
    snprintf(nsbuf, sizeof(nsbuf), "%.2g", nsl > 1 ? nsl : 1.0);
    set(ag, "nslimit", nsbuf);
    set(ag, "nslimit1", "20");
    set(ag, "mclimit", "0.5");
    set(ag, "searchsize", "30");
    set(ag, "outputorder", "edgesfirst");
    set(ag, "tooltip", "plop call graph");
}

static void
add_node(Agraph_t *ag, const struct graph *g, uint32_t id,
         const struct render_opts *o, uint64_t max_self, struct strbuf *sb,
         int amp)
{
    const struct graph_node *n = &g->nodes[id];
    char name[32], loc[160], buf[64], cnt[32], color[8];
    snprintf(name, sizeof(name), "n%u", id);
    Agnode_t *an = agnode(ag, name, 1);

    present_short_loc(n, loc, sizeof(loc));
    add_esc(sb, n->func, n->func_len, amp, LABEL_MAX);
    if (loc[0] != '\0') {
        strbuf_addstr(sb, "\\n");
        add_esc(sb, loc, strlen(loc), amp, LABEL_MAX);
    }
    const struct diff_node *dn = g->diff ? &g->diff->nodes[id] : NULL;
    if (dn != NULL) {
        char ls[64], li[64];
        diff_label(g->diff, dn->self[DIFF_BASE], dn->self[DIFF_NEW], ls,
                   sizeof(ls));
        diff_label(g->diff, dn->incl[DIFF_BASE], dn->incl[DIFF_NEW], li,
                   sizeof(li));
        strbuf_addf(sb, "\\nself %s\\nincl %s", ls, li);
    } else {
        strbuf_addf(sb, "\\nself %.1f %%\\nincl %.1f %%",
                    pct(n->self, g->total), pct(n->incl, g->total));
    }
    set(an, "label", take(sb));

    add_esc(sb, n->func, n->func_len, amp, TOOLTIP_MAX);
    if (n->kind != 0) {
        strbuf_addstr(sb, n->kind == 'k'   ? " (kernel)"
                          : n->kind == 'j' ? " (JIT)"
                          : n->kind == 'i' ? " (inlined)"
                                           : " (waker)");
    }
    if (n->file_len > 0) {
        strbuf_addstr(sb, "\\n");
        add_esc(sb, n->file, n->file_len, amp, TOOLTIP_MAX);
        strbuf_addf(sb, ":%ld", n->line);
    }
    strbuf_addf(sb, "\\nself %s samples (%.1f %%)",
                present_count(n->self, cnt), pct(n->self, g->total));
    strbuf_addf(sb, "\\nincl %s samples (%.1f %%)",
                present_count(n->incl, cnt), pct(n->incl, g->total));
    if (dn != NULL) {
        const struct diff *df = g->diff;
        strbuf_addf(sb, "\\nbase: self %s samples (%.1f %%)",
                    present_count(dn->self[DIFF_BASE], cnt),
                    pct(dn->self[DIFF_BASE], df->total[DIFF_BASE]));
        strbuf_addf(sb, ", incl %s samples (%.1f %%)",
                    present_count(dn->incl[DIFF_BASE], cnt),
                    pct(dn->incl[DIFF_BASE], df->total[DIFF_BASE]));
    }
    set(an, "tooltip", take(sb));

    set(an, "id", name);
    double r = max_self ? sqrt((double)n->self / (double)max_self) : 0;
    snprintf(buf, sizeof(buf), "%.1f", 10.0 + 22.0 * r);
    set(an, "fontsize", buf);
    present_node_color(g, id, o->color, color);
    set(an, "fillcolor", color);
}

static void
add_edge(Agraph_t *ag, const struct graph *g, const struct graph_edge *e,
         uint64_t max_w, struct strbuf *sb, int amp)
{
    char a[32], b[32], buf[160];
    snprintf(a, sizeof(a), "n%u", e->from);
    snprintf(b, sizeof(b), "n%u", e->to);
    Agnode_t *na = agnode(ag, a, 0);
    Agnode_t *nb = agnode(ag, b, 0);
    Agedge_t *ae = agedge(ag, na, nb, NULL, 1);
    double r = max_w ? (double)e->weight / (double)max_w : 0;
    snprintf(buf, sizeof(buf), "e%u-%u", e->from, e->to);
    set(ae, "id", buf);
    snprintf(buf, sizeof(buf), "%.2f", 1.0 + 5.0 * r);
    set(ae, "penwidth", buf);
    snprintf(buf, sizeof(buf), "%.2f", 0.6 + 0.6 * r);
    set(ae, "arrowsize", buf);
    snprintf(buf, sizeof(buf), "%d", 1 + (int)(100 * r));
    set(ae, "weight", buf);
    /* grey for thin edges, darker for heavy ones */
    int shade = (int)lround(0xa0 - 0x80 * r);
    snprintf(buf, sizeof(buf), "#%02x%02x%02x", shade, shade, shade);
    size_t ei = (size_t)(e - g->shown_edges);
    const struct diff *df = g->diff;
    uint64_t eb = df ? df->shown_edge_w[DIFF_BASE][ei] : 0;
    if (df != NULL && diff_significant(df, eb, e->weight)) {
        diff_line_color(df, eb, e->weight, buf);
    }
    set(ae, "color", buf);
    char share[80];
    if (df != NULL) {
        char lb[64];
        diff_label(df, eb, e->weight, lb, sizeof(lb));
        snprintf(share, sizeof(share), " %s", lb);
    } else {
        snprintf(share, sizeof(share), " %.1f %%", pct(e->weight, g->total));
    }
    if (e->bridged && e->hidden_min == e->hidden_max) {
        snprintf(buf, sizeof(buf), "%s\\n %u hidden frame%s", share,
                 e->hidden_min, e->hidden_min == 1 ? "" : "s");
    } else if (e->bridged) {
        snprintf(buf, sizeof(buf), "%s\\n %u-%u hidden frames", share,
                 e->hidden_min, e->hidden_max);
    } else {
        snprintf(buf, sizeof(buf), "%s", share);
    }
    /* xlabel, not label: dot turns edge labels into virtual nodes and
     * doubles the ranks, which made layout 3-5x slower on 80 nodes. */
    set(ae, "xlabel", buf);
    char cnt[32];
    const struct graph_node *from = &g->nodes[e->from];
    const struct graph_node *to = &g->nodes[e->to];
    add_esc(sb, from->func, from->func_len, amp, LABEL_MAX);
    strbuf_addstr(sb, " -> ");
    add_esc(sb, to->func, to->func_len, amp, LABEL_MAX);
    strbuf_addf(sb, "\\n%s samples (%.1f %%)",
                present_count(e->weight, cnt), pct(e->weight, g->total));
    if (df != NULL) {
        strbuf_addf(sb, "\\nbase: %s samples (%.1f %%)",
                    present_count(eb, cnt), pct(eb, df->total[DIFF_BASE]));
    }
    strbuf_addstr(sb, e->bridged ? "\\nthrough hidden frames" : "");
    set(ae, "tooltip", take(sb));
    if (e->bridged) {
        set(ae, "style", "dotted");
    }
}

/*
 * A box of hidden functions below a shown caller (graph.h's tails), named
 * "t<caller id>", and its dashed arrow from "n<caller id>".  Its size
 * follows its samples as a node's does; its colour is a neutral grey, the
 * box dashed: it is no function.
 */
static void
add_tail(Agraph_t *ag, const struct graph *g, const struct graph_tail *t,
         uint64_t max_self, uint64_t max_w, struct strbuf *sb, int amp)
{
    const struct graph_node *c = &g->nodes[t->caller];
    const char *unit = g->granularity == RENDER_GRAN_LINE ? "line"
                                                          : "function";
    char name[32], from[32], cnt[32], buf[64];
    /* "each at most" rounds up: a bound, never an understatement. */
    double each = ceil(10000.0 * (double)t->max_self
                       / (double)(g->total ? g->total : 1)) / 100.0;
    snprintf(name, sizeof(name), "t%u", t->caller);
    snprintf(from, sizeof(from), "n%u", t->caller);
    Agnode_t *an = agnode(ag, name, 1);
    strbuf_addf(sb, "%s hidden %s%s\\nself %.1f %%\\neach at most %.2f %%",
                present_count(t->nfuncs, cnt), unit,
                t->nfuncs == 1 ? "" : "s", pct(t->self, g->total), each);
    set(an, "label", take(sb));
    strbuf_addf(sb, "%s hidden %s%s below ", present_count(t->nfuncs, cnt),
                unit, t->nfuncs == 1 ? "" : "s");
    add_esc(sb, c->func, c->func_len, amp, TOOLTIP_MAX);
    strbuf_addf(sb, "\\nrunning: %s self samples (%.1f %%)",
                present_count(t->self, cnt), pct(t->self, g->total));
    strbuf_addf(sb, "\\neach at most %s self samples (%.2f %%) in all",
                present_count(t->max_self, cnt), each);
    set(an, "tooltip", take(sb));
    set(an, "id", name);
    double r = max_self ? sqrt((double)t->self / (double)max_self) : 0;
    snprintf(buf, sizeof(buf), "%.1f", 10.0 + 22.0 * (r < 1 ? r : 1));
    set(an, "fontsize", buf);
    set(an, "style", "filled,dashed");
    set(an, "fillcolor", "#eeeeee");

    Agedge_t *ae = agedge(ag, agnode(ag, from, 0), an, NULL, 1);
    double w = max_w ? (double)t->self / (double)max_w : 0;
    w = w < 1 ? w : 1;
    snprintf(buf, sizeof(buf), "e%u-t", t->caller);
    set(ae, "id", buf);
    snprintf(buf, sizeof(buf), "%.2f", 1.0 + 5.0 * w);
    set(ae, "penwidth", buf);
    snprintf(buf, sizeof(buf), "%.2f", 0.6 + 0.6 * w);
    set(ae, "arrowsize", buf);
    set(ae, "style", "dashed");
    set(ae, "color", "#a0a0a0");
    snprintf(buf, sizeof(buf), " %.1f %%", pct(t->self, g->total));
    set(ae, "xlabel", buf);
    add_esc(sb, c->func, c->func_len, amp, LABEL_MAX);
    strbuf_addf(sb, " -> %s hidden %s%s\\n%s samples (%.1f %%)",
                present_count(t->nfuncs, cnt), unit,
                t->nfuncs == 1 ? "" : "s",
                present_count(t->self, buf), pct(t->self, g->total));
    set(ae, "tooltip", take(sb));
}

/*
 * Wide fans in rows.  Dot puts every callee of a node on the rank below
 * it, so a dispatcher with 1,000 shown handlers makes a picture 1,000
 * boxes wide.  As Graphviz's own `unflatten -l` tool does, the arrows to a
 * wide fan's leaves (callees with no other drawn arrow) get staggered
 * minimum lengths, so the leaves stack in rows of about FAN_ROW_WIDTH
 * boxes, the hottest in the first row; boxes with no drawn arrow at all
 * (their calls fell under --edge-fraction) are tied into columns by
 * invisible edges, as `unflatten -c` does.  Layout only: no arrow,
 * number or box changes.  Cost: O(shown nodes + shown edges) here; each
 * staggered arrow adds (minlen - 1) virtual nodes to dot's work, and
 * those cost: a fan of 1,682 leaves in 4 rows (2,500 virtual nodes) took
 * 2.7 s to lay out instead of 0.6 s in one row, and the arrows passing
 * down between a row's boxes widen it.  Dot's `concentrate` merges the
 * arrows of one caller where they run in parallel, which makes both
 * narrow and cheap again, but dot 2.42 is known to crash with it on back
 * edges and multi-edges (Graphviz issues #167, #175), so it is set only
 * when the drawn graph is a forest (every box one arrow in at most, no
 * cycle, no self arrow) and a fan was staggered.  A fan gets at most
 * FAN_MAX_ROWS rows and all fans together at most FAN_MAX_VIRTUAL virtual
 * nodes (FAN_MAX_VIRTUAL_TREE in a forest); what does not fit stays wider.
 */
#define FAN_ROW_WIDTH 12
#define FAN_MAX_ROWS 12
#define FAN_MAX_VIRTUAL 600
#define FAN_MAX_VIRTUAL_TREE 6000

/* Whether the drawn graph is a forest: no self arrow, at most one arrow
 * into each box (nin), no cycle.  O(shown nodes + shown edges). */
static int
is_forest(const struct graph *g, struct arena *a, const uint32_t *nin)
{
    uint32_t n = g->nnodes;
    uint32_t *parent = arena_alloc(a, n * sizeof(*parent));
    unsigned char *state = arena_calloc(a, n, 1);
    for (size_t i = 0; i < g->nshown_edges; i++) {
        const struct graph_edge *e = &g->shown_edges[i];
        if (e->from == e->to || nin[e->to] > 1) {
            return 0;
        }
        parent[e->to] = e->from;
    }
    /* Walk up from every box; meeting the walk's own path is a cycle
     * (state 1), a box already cleared (state 2) or a root ends it. */
    for (uint32_t r = 0; r < g->nshown; r++) {
        uint32_t v = g->shown[r];
        while (state[v] == 0) {
            state[v] = 1;
            if (nin[v] == 0) {
                break;
            }
            v = parent[v];
        }
        if (state[v] == 1 && nin[v] != 0) {
            return 0;
        }
        for (v = g->shown[r]; state[v] == 1; v = parent[v]) {
            state[v] = 2;
            if (nin[v] == 0) {
                break;
            }
        }
    }
    return 1;
}

static uint32_t
isqrt_up(uint32_t n)
{
    uint32_t r = 0;
    while (r * r < n) {
        r++;
    }
    return r;
}

/* Edge indices by the shown rank of their callee (hottest first).  For
 * glibc's qsort_r; `g` is the graph. */
static int
leaf_cmp(const void *pa, const void *pb, void *g)
{
    const struct graph *gr = g;
    uint32_t a = gr->nodes[gr->shown_edges[*(const uint32_t *)pa].to]
                     .shown_rank;
    uint32_t b = gr->nodes[gr->shown_edges[*(const uint32_t *)pb].to]
                     .shown_rank;
    return (a > b) - (a < b);
}

static void
arrange_rows(Agraph_t *ag, const struct graph *g, struct arena *a)
{
    uint32_t n = g->nnodes;
    if (g->nshown <= FAN_ROW_WIDTH) {
        return;
    }
    uint32_t *nin = arena_calloc(a, n, sizeof(*nin));
    uint32_t *nout = arena_calloc(a, n, sizeof(*nout));
    for (size_t i = 0; i < g->nshown_edges; i++) {
        const struct graph_edge *e = &g->shown_edges[i];
        if (e->from != e->to) {
            nout[e->from]++;
            nin[e->to]++;
        }
    }
    /* Leaves per caller, in shown order (hottest first): shown_edges is
     * sorted by caller, so each caller's leaves are one run. */
    uint32_t *leaf = arena_alloc(a, (g->nshown_edges + 1) * sizeof(*leaf));
    int tree = is_forest(g, a, nin);
    uint32_t virt = tree ? FAN_MAX_VIRTUAL_TREE : FAN_MAX_VIRTUAL;
    int staggered = 0;
    char buf[32], nb[32];
    for (size_t i = 0; i < g->nshown_edges;) {
        uint32_t from = g->shown_edges[i].from;
        uint32_t k = 0;
        size_t j = i;
        for (; j < g->nshown_edges && g->shown_edges[j].from == from; j++) {
            uint32_t to = g->shown_edges[j].to;
            if (to != from && nin[to] == 1 && nout[to] == 0) {
                leaf[k++] = (uint32_t)j;
            }
        }
        i = j;
        /* leaf x goes to row 1 + x % rows (the hottest down the first
         * column): k * (rows - 1) / 2 virtual nodes */
        uint32_t rows = (k + FAN_ROW_WIDTH - 1) / FAN_ROW_WIDTH;
        rows = rows < FAN_MAX_ROWS ? rows : FAN_MAX_ROWS;
        if (k > 0 && rows > 1 + 2 * virt / k) {
            rows = 1 + 2 * virt / k;
        }
        if (rows < 2) {
            continue;
        }
        virt -= k * (rows - 1) / 2;
        staggered = 1;
        qsort_r(leaf, k, sizeof(*leaf), leaf_cmp, (void *)g);
        snprintf(nb, sizeof(nb), "n%u", from);
        Agnode_t *na = agnode(ag, nb, 0);
        for (uint32_t x = 0; x < k; x++) {
            const struct graph_edge *e = &g->shown_edges[leaf[x]];
            snprintf(buf, sizeof(buf), "n%u", e->to);
            Agedge_t *ae = agedge(ag, na, agnode(ag, buf, 0), NULL, 0);
            if (ae != NULL && x % rows > 0) {
                snprintf(buf, sizeof(buf), "%u", 1 + x % rows);
                set(ae, "minlen", buf);
            }
        }
    }
    if (staggered && tree) {
        set(ag, "concentrate", "true");
    }
    /* Boxes with no drawn arrow, in shown order, in columns. */
    uint32_t niso = 0;
    for (uint32_t r = 0; r < g->nshown; r++) {
        uint32_t id = g->shown[r];
        niso += nin[id] == 0 && nout[id] == 0;
    }
    if (niso <= FAN_ROW_WIDTH) {
        return;
    }
    uint32_t height = isqrt_up(niso);
    Agnode_t *prev = NULL;
    uint32_t x = 0;
    for (uint32_t r = 0; r < g->nshown; r++) {
        uint32_t id = g->shown[r];
        if (nin[id] != 0 || nout[id] != 0) {
            continue;
        }
        snprintf(nb, sizeof(nb), "n%u", id);
        Agnode_t *cur = agnode(ag, nb, 0);
        if (prev != NULL && x % height != 0) {
            Agedge_t *ae = agedge(ag, prev, cur, NULL, 1);
            set(ae, "style", "invis");
        }
        prev = cur;
        x++;
    }
}

/* Builds the cgraph graph of the shown nodes and edges. */
static Agraph_t *
build_agraph(const struct graph *g, const struct render_opts *o,
             struct strbuf *sb, int amp)
{
    Agraph_t *ag = agopen("plop", Agdirected, NULL);
    set_graph_attrs(ag, g, o, sb, amp);
    agattr(ag, AGNODE, "shape", "box");
    agattr(ag, AGNODE, "style", "filled");
    agattr(ag, AGNODE, "fontname", "Helvetica");
    agattr(ag, AGNODE, "color", "#606060");
    agattr(ag, AGNODE, "margin", "0.08,0.04");
    agattr(ag, AGEDGE, "fontname", "Helvetica");
    agattr(ag, AGEDGE, "fontsize", "9");
    agattr(ag, AGEDGE, "fontcolor", "#505050");

    uint64_t max_self = 0, max_w = 0;
    for (uint32_t r = 0; r < g->nshown; r++) {
        if (g->nodes[g->shown[r]].self > max_self) {
            max_self = g->nodes[g->shown[r]].self;
        }
    }
    for (size_t i = 0; i < g->nshown_edges; i++) {
        if (g->shown_edges[i].weight > max_w) {
            max_w = g->shown_edges[i].weight;
        }
    }
    for (uint32_t r = 0; r < g->nshown; r++) {
        add_node(ag, g, g->shown[r], o, max_self, sb, amp);
    }
    for (size_t i = 0; i < g->nshown_edges; i++) {
        add_edge(ag, g, &g->shown_edges[i], max_w, sb, amp);
    }
    for (uint32_t i = 0; i < g->ntails; i++) {
        add_tail(ag, g, &g->tails[i], max_self, max_w, sb, amp);
    }
    arrange_rows(ag, g, sb->arena);
    return ag;
}

static const char *
gv_format(const char *format)
{
    if (strcmp(format, "svg") == 0) {
        return "svg:svg:core";
    } else if (strcmp(format, "png") == 0) {
        return "png:cairo";
    } else if (strcmp(format, "pdf") == 0) {
        return "pdf:cairo";
    } else if (strcmp(format, "dot") == 0) {
        return "canon";
    }
    return NULL;
}

/*
 * cairo writes the creation time into a PDF ("/CreationDate (D:...)").
 * Replacing the date by a fixed one of the same length keeps every byte
 * offset of the file (the xref table) valid and the output deterministic.
 */
static void
pdf_fix_date(char *buf, size_t len)
{
    static const char key[] = "/CreationDate (D:";
    size_t klen = sizeof(key) - 1;
    for (size_t i = 0; i + klen < len; i++) {
        if (memcmp(buf + i, key, klen) != 0) {
            continue;
        }
        for (size_t j = i + klen; j < len && buf[j] != ')'; j++) {
            if (buf[j] >= '0' && buf[j] <= '9') {
                buf[j] = '0';
            }
        }
        return;
    }
}

int
gv_render(struct strbuf *out, const struct graph *g,
          const struct render_opts *o, const char *format, struct diag *d)
{
    const char *gvfmt = gv_format(format);
    if (gvfmt == NULL) {
        diag_set(d, DIAG_USAGE, "error: unknown graph format '%s'", format);
        return -1;
    }
    int is_dot = strcmp(format, "dot") == 0;
    struct strbuf sb;
    strbuf_init(&sb, out->arena);

    gv_last_error[0] = '\0';
    agusererrf old_errf = agseterrf(gv_error_sink);
    agerrlevel_t old_level = agseterr(AGERR);

    GVC_t *gvc = gvContextPlugins(lt_preloaded_symbols, 0);
    Agraph_t *ag = build_agraph(g, o, &sb, !is_dot);
    int rc = 0;
    /* Graphviz 2.42's canon writer also wants a layout done. */
    double t0 = now_seconds();
    int layout_rc = gvLayout(gvc, ag, "dot");
    last_layout_seconds = now_seconds() - t0;
    if (layout_rc != 0) {
        diag_set(d, DIAG_LAYOUT, "error: graphviz cannot lay out the graph%s%s",
                 gv_last_error[0] ? ": " : "", gv_last_error);
        rc = -1;
    } else {
        char *data = NULL;
        unsigned int len = 0;
        if (is_dot) {
            /* The bounding box is the only layout result canon prints:
             * drop it so DOT text does not depend on font metrics. */
            agsafeset(ag, "bb", "", "");
        }
        if (gvRenderData(gvc, ag, gvfmt, &data, &len) != 0 || data == NULL) {
            diag_set(d, DIAG_LAYOUT, "error: graphviz cannot render '%s'%s%s",
                     format, gv_last_error[0] ? ": " : "", gv_last_error);
            rc = -1;
        } else {
            if (strcmp(format, "pdf") == 0) {
                pdf_fix_date(data, len);
            }
            strbuf_add(out, data, len);
        }
        if (data != NULL) {
            gvFreeRenderData(data);
        }
    }
    gvFreeLayout(gvc, ag);
    agclose(ag);
    gvFreeContext(gvc);
    agseterr(old_level);
    agseterrf(old_errf);
    return rc;
}
