/*
 * test_graph.c: the call graph (graph.c) and its pruning (prune.c):
 * self / inclusive / edge counts, recursion counted once per stack,
 * granularity, merging several inputs, pprof's pruning order, bridged
 * edges, --focus / --ignore, colours and the summary line.  Profiles are
 * built by hand with profile_intern / profile_add_stack (and, for the
 * merge, load_buffer on two buffers).
 */
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "check.h"
#include "graph.h"
#include "load.h"
#include "opts.h"
#include "present.h"
#include "profile.h"

static struct arena *A;

static uint32_t
fr(struct profile *p, const char *file, long line, const char *func)
{
    int64_t id = profile_intern(p, file, strlen(file), line, func,
                                strlen(func));
    CHECK(id >= 0);
    return (uint32_t)id;
}

/* Adds a stack of n frame ids, leaf first. */
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

/* The node id of (file, func), or GRAPH_NO_NODE. */
static uint32_t
node(const struct graph *g, const char *file, const char *func)
{
    for (uint32_t i = 0; i < g->nnodes; i++) {
        if (strcmp(g->nodes[i].file, file) == 0
            && strcmp(g->nodes[i].func, func) == 0) {
            return i;
        }
    }
    return GRAPH_NO_NODE;
}

static uint64_t
weight(const struct graph *g, uint32_t from, uint32_t to)
{
    const struct graph_edge *e = graph_find_edge(g, from, to);
    return e ? e->weight : 0;
}

static const struct graph_edge *
shown_edge(const struct graph *g, uint32_t from, uint32_t to)
{
    for (size_t i = 0; i < g->nshown_edges; i++) {
        if (g->shown_edges[i].from == from && g->shown_edges[i].to == to) {
            return &g->shown_edges[i];
        }
    }
    return NULL;
}

static void
build(struct graph *g, struct profile *p, struct render_opts *o)
{
    struct diag d;
    CHECK_EQ_INT(graph_build(g, A, p, o, &d), 0);
    graph_prune(g, A, o);
}

static void
test_self_incl_edges(void)
{
    struct profile p;
    struct render_opts o;
    struct graph g;
    profile_init(&p, A);
    render_opts_init(&o);
    uint32_t a = fr(&p, "m.py", 1, "a"), b = fr(&p, "m.py", 5, "b");
    uint32_t c = fr(&p, "m.py", 9, "c"), d = fr(&p, "n.py", 2, "d");
    add(&p, 3, 3, c, b, a);
    add(&p, 2, 2, b, a);
    add(&p, 1, 2, d, a);
    build(&g, &p, &o);
    CHECK_EQ_INT(g.total, 6);
    CHECK_EQ_INT(g.nnodes, 4);
    uint32_t na = node(&g, "m.py", "a"), nb = node(&g, "m.py", "b");
    uint32_t nc = node(&g, "m.py", "c"), nd = node(&g, "n.py", "d");
    CHECK_EQ_INT(g.nodes[na].self, 0);
    CHECK_EQ_INT(g.nodes[na].incl, 6);
    CHECK_EQ_INT(g.nodes[nb].self, 2);
    CHECK_EQ_INT(g.nodes[nb].incl, 5);
    CHECK_EQ_INT(g.nodes[nc].self, 3);
    CHECK_EQ_INT(g.nodes[nc].incl, 3);
    CHECK_EQ_INT(g.nodes[nd].self, 1);
    CHECK_EQ_INT(g.nodes[nd].incl, 1);
    CHECK_EQ_INT(g.nedges, 3);
    CHECK_EQ_INT(weight(&g, na, nb), 5);
    CHECK_EQ_INT(weight(&g, nb, nc), 3);
    CHECK_EQ_INT(weight(&g, na, nd), 1);
    CHECK_EQ_INT(weight(&g, nb, na), 0);
    /* ids follow the (file, func, line) order */
    CHECK(na < nb && nb < nc && nc < nd);
    CHECK_EQ_INT(g.frame_node[a], na);
    CHECK_EQ_INT(g.frame_node[d], nd);
    /* nothing pruned at the defaults */
    CHECK_EQ_INT(g.nshown, 4);
    CHECK_EQ_INT(g.shown[0], na);
    CHECK_EQ_INT(g.shown[1], nb);
    CHECK_EQ_INT(g.shown[2], nc);
    CHECK_EQ_INT(g.nshown_edges, 3);
    for (size_t i = 0; i < g.nshown_edges; i++) {
        CHECK(!g.shown_edges[i].bridged);
    }
}

static void
test_recursion_counted_once(void)
{
    struct profile p;
    struct render_opts o;
    struct graph g;
    profile_init(&p, A);
    render_opts_init(&o);
    uint32_t m = fr(&p, "r.py", 1, "main"), f = fr(&p, "r.py", 10, "f");
    uint32_t g2 = fr(&p, "r.py", 20, "g");
    /* main -> f -> g -> f -> g -> f (leaf), 4 samples */
    add(&p, 4, 6, f, g2, f, g2, f, m);
    add(&p, 1, 2, f, m);
    build(&g, &p, &o);
    uint32_t nm = node(&g, "r.py", "main"), nf = node(&g, "r.py", "f");
    uint32_t ng = node(&g, "r.py", "g");
    CHECK_EQ_INT(g.total, 5);
    CHECK_EQ_INT(g.nodes[nf].incl, 5);
    CHECK_EQ_INT(g.nodes[nf].self, 5);
    CHECK_EQ_INT(g.nodes[ng].incl, 4);
    CHECK_EQ_INT(weight(&g, nf, ng), 4);
    CHECK_EQ_INT(weight(&g, ng, nf), 4);
    CHECK_EQ_INT(weight(&g, nm, nf), 5);
    /* no node or edge exceeds the total */
    for (uint32_t i = 0; i < g.nnodes; i++) {
        CHECK(g.nodes[i].incl <= g.total);
    }
    for (size_t i = 0; i < g.nedges; i++) {
        CHECK(g.edges[i].weight <= g.total);
    }
}

static void
test_granularity(void)
{
    struct profile p;
    struct render_opts o;
    struct graph g;
    profile_init(&p, A);
    render_opts_init(&o);
    uint32_t m = fr(&p, "r.py", 1, "main");
    uint32_t f12 = fr(&p, "r.py", 12, "f"), f10 = fr(&p, "r.py", 10, "f");
    add(&p, 2, 3, f12, f10, m);  /* f's line 10 calls f's line 12 */
    add(&p, 3, 2, f10, m);
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nnodes, 2);
    uint32_t nf = node(&g, "r.py", "f"), nm = node(&g, "r.py", "main");
    CHECK_EQ_INT(g.nodes[nf].line, 10);
    CHECK_EQ_INT(g.nodes[nf].incl, 5);
    CHECK_EQ_INT(g.nodes[nf].self, 5);
    CHECK_EQ_INT(weight(&g, nf, nf), 2);  /* self edge, once per stack */
    CHECK_EQ_INT(weight(&g, nm, nf), 5);
    CHECK_EQ_INT(g.frame_node[f10], g.frame_node[f12]);

    o.granularity = RENDER_GRAN_LINE;
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nnodes, 3);
    CHECK(g.frame_node[f10] != g.frame_node[f12]);
    CHECK_EQ_INT(g.nodes[g.frame_node[f12]].self, 2);
    CHECK_EQ_INT(g.nodes[g.frame_node[f10]].self, 3);
    CHECK_EQ_INT(g.nodes[g.frame_node[f10]].incl, 5);
    CHECK_EQ_INT(weight(&g, g.frame_node[f10], g.frame_node[f12]), 2);
    char sum[128];
    present_summary(&g, sum, sizeof(sum));
    CHECK_STR(sum, "showing 3 of 3 lines, 100.0 % of self samples");
}

/* Anonymous code objects (<listcomp>, <lambda>, ...) keep their line in
 * function granularity: two comprehensions of one file stay apart, while
 * <module>'s lines merge like a named function's. */
static void
test_anonymous_functions(void)
{
    struct profile p;
    struct render_opts o;
    struct graph g;
    profile_init(&p, A);
    render_opts_init(&o);
    uint32_t m3 = fr(&p, "r.py", 3, "<module>");
    uint32_t m9 = fr(&p, "r.py", 9, "<module>");
    uint32_t a = fr(&p, "r.py", 5, "a"), b = fr(&p, "r.py", 7, "b");
    uint32_t la = fr(&p, "r.py", 5, "<listcomp>");
    uint32_t lb = fr(&p, "r.py", 7, "<listcomp>");
    add(&p, 4, 3, la, a, m3);
    add(&p, 1, 3, lb, b, m9);
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nnodes, 5);
    CHECK(g.frame_node[la] != g.frame_node[lb]);
    CHECK_EQ_INT(g.frame_node[m3], g.frame_node[m9]);
    CHECK_EQ_INT(g.nodes[g.frame_node[la]].self, 4);
    CHECK_EQ_INT(g.nodes[g.frame_node[lb]].self, 1);
    CHECK_EQ_INT(g.nodes[g.frame_node[m3]].incl, 5);
    CHECK_EQ_INT(weight(&g, g.frame_node[a], g.frame_node[la]), 4);
    CHECK_EQ_INT(weight(&g, g.frame_node[a], g.frame_node[lb]), 0);
}

static void
test_merge_inputs(void)
{
    static const char one[] =
        "{(('a.py', 3, 'leaf'), ('a.py', 1, 'root')): 5,\n"
        " (('a.py', 1, 'root'),): 1}\n";
    static const char two[] = "root (a.py:1);leaf (a.py:3) 7\n"
                              "root (a.py:1);other (b.py:2) 2\n";
    struct profile p;
    struct render_opts o;
    struct graph g;
    struct diag d;
    profile_init(&p, A);
    render_opts_init(&o);
    CHECK_EQ_INT(load_buffer(&p, "one", one, strlen(one), 0, &d), 0);
    CHECK_EQ_INT(load_buffer(&p, "two", two, strlen(two), 0, &d), 0);
    build(&g, &p, &o);
    CHECK_EQ_INT(g.total, 15);
    uint32_t leaf = node(&g, "a.py", "leaf"), root = node(&g, "a.py", "root");
    CHECK(leaf != GRAPH_NO_NODE && root != GRAPH_NO_NODE);
    if (leaf == GRAPH_NO_NODE || root == GRAPH_NO_NODE) {
        return;
    }
    CHECK_EQ_INT(g.nodes[leaf].self, 12);
    CHECK_EQ_INT(g.nodes[root].incl, 15);
    CHECK_EQ_INT(g.nodes[root].self, 1);
    CHECK_EQ_INT(weight(&g, root, leaf), 12);
    CHECK_EQ_INT(g.nnodes, 3);
}

/* a calls x1..x9 with counts 100, 50, 20, 10, 5, 4, 3, 2, 1 (total 195). */
static void
fan_out(struct profile *p)
{
    static const uint64_t counts[] = {100, 50, 20, 10, 5, 4, 3, 2, 1};
    char name[8];
    uint32_t a = fr(p, "f.py", 1, "a");
    for (int i = 0; i < 9; i++) {
        snprintf(name, sizeof(name), "x%d", i + 1);
        add(p, counts[i], 2, fr(p, "f.py", 10 + i, name), a);
    }
}

static void
test_prune_order(void)
{
    struct profile p;
    struct render_opts o;
    struct graph g;
    char sum[256];
    profile_init(&p, A);
    fan_out(&p);

    /* hot nodes first: 90 % of 195 is x1..x4, but the 10 largest self
     * nodes are always in (all 9 leaves); then a as context */
    render_opts_init(&o);
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nhot, 9);
    CHECK_EQ_INT(g.nshown, 10);
    CHECK_EQ_INT(g.shown_self, 195);
    CHECK_EQ_INT(g.shown[0], node(&g, "f.py", "a"));
    CHECK_EQ_INT(g.shown[1], node(&g, "f.py", "x1"));
    present_hidden(&g, sum, sizeof(sum));
    CHECK_STR(sum, "");

    /* the node fraction applies to context nodes only: 0.02 * 195 = 3.9,
     * cutoff 4, yet x7..x9 stay for their self samples */
    o.node_fraction = 0.02;
    build(&g, &p, &o);
    CHECK_EQ_INT(g.node_cutoff, 4);
    CHECK_EQ_INT(g.nshown, 10);

    /* an explicit --max-nodes is a hard limit: the 3 largest self */
    o.max_nodes = 3;
    o.max_nodes_given = 1;
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nshown, 3);
    CHECK_EQ_INT(g.shown[0], node(&g, "f.py", "x1"));
    CHECK_EQ_INT(g.shown[1], node(&g, "f.py", "x2"));
    CHECK_EQ_INT(g.shown[2], node(&g, "f.py", "x3"));
    CHECK_EQ_INT(g.shown_self, 170);
    CHECK_EQ_INT(g.dropped_nodes, 7);
    CHECK_EQ_INT(g.hidden_max_self, 10);
    CHECK_EQ_INT(g.nshown_edges, 0);
    present_summary(&g, sum, sizeof(sum));
    CHECK_STR(sum, "showing 3 of 10 functions, 87.2 % of self samples");
    present_hidden(&g, sum, sizeof(sum));
    CHECK_STR(sum, "7 hidden functions hold 12.8 % of self samples, at "
              "most 10 samples each");

    /* a quarter of the budget stays for context: of 9, 7 hot (x1..x7),
     * then a; x8 and x9 are under the node fraction (cutoff 4) */
    o.max_nodes = 9;
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nhot, 7);
    CHECK(g.nodes[node(&g, "f.py", "a")].shown_rank != GRAPH_NO_NODE);
    present_hidden(&g, sum, sizeof(sum));
    CHECK_STR(sum, "2 hidden functions hold 1.5 % of self samples, at most "
              "2 samples each");
    /* without the fraction x8 is context too: one hidden node, singular,
     * with its count */
    o.node_fraction = 0;
    build(&g, &p, &o);
    present_hidden(&g, sum, sizeof(sum));
    CHECK_STR(sum, "1 hidden function holds 0.5 % of self samples "
              "(1 sample)");

    /* then edges below the edge fraction: 0.3 * 195 -> 59, a->x2 (50)
     * and the rest go, a->x1 (100) stays */
    render_opts_init(&o);
    o.edge_fraction = 0.3;
    build(&g, &p, &o);
    CHECK_EQ_INT(g.edge_cutoff, 59);
    CHECK_EQ_INT(g.nshown_edges, 1);
    CHECK_EQ_INT(g.dropped_edges, 8);
    CHECK(shown_edge(&g, node(&g, "f.py", "a"), node(&g, "f.py", "x1")));
    present_hidden(&g, sum, sizeof(sum));
    CHECK_STR(sum, "8 calls of under 59 samples hidden");

    /* fractions of 0 and max_nodes 0 keep everything */
    render_opts_init(&o);
    o.node_fraction = 0;
    o.edge_fraction = 0;
    o.max_nodes = 0;
    o.max_nodes_given = 1;
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nshown, 10);
    CHECK_EQ_INT(g.nshown_edges, 9);
    CHECK_EQ_INT(g.shown_self, 195);
}

/* n leaves of `self` samples each under one entry function. */
static void
wide(struct profile *p, const char *file, int n, uint64_t self)
{
    char name[16];
    uint32_t root = fr(p, "w.py", 1, "serve");
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "h%d", i);
        add(p, self, 2, fr(p, file, 10 + i, name), root);
    }
}

static void
test_same_name_first_lines(void)
{
    struct profile p;
    struct render_opts o;
    struct graph g;
    render_opts_init(&o);
    /* First lines (the <module> frame at line 1): two `run`s stay apart. */
    profile_init(&p, A);
    uint32_t mod = fr(&p, "w.py", 1, "<module>");
    add(&p, 5, 2, fr(&p, "w.py", 10, "run"), mod);
    add(&p, 3, 2, fr(&p, "w.py", 20, "run"), mod);
    build(&g, &p, &o);
    CHECK(g.first_lines);
    CHECK_EQ_INT(g.nnodes, 3);
    /* Running lines (a <module> frame past line 1): one `run`, its
     * smallest line. */
    profile_init(&p, A);
    mod = fr(&p, "w.py", 40, "<module>");
    add(&p, 5, 2, fr(&p, "w.py", 12, "run"), mod);
    add(&p, 3, 2, fr(&p, "w.py", 14, "run"), mod);
    build(&g, &p, &o);
    CHECK(!g.first_lines);
    CHECK_EQ_INT(g.nnodes, 2);
    CHECK_EQ_INT(g.nodes[node(&g, "w.py", "run")].line, 12);
    /* No <module> frame: unknown, lines merge. */
    profile_init(&p, A);
    add(&p, 5, 1, fr(&p, "w.py", 10, "run"));
    add(&p, 3, 1, fr(&p, "w.py", 20, "run"));
    build(&g, &p, &o);
    CHECK(!g.first_lines);
    CHECK_EQ_INT(g.nnodes, 1);
}

static void
test_budget_grows_for_the_goal(void)
{
    struct profile p;
    struct render_opts o;
    struct graph g;
    render_opts_init(&o);

    /* 200 equal leaves: 90 % needs 180 nodes, past the default 80; the
     * budget is 180 + 20 for context (the root, then more leaves) */
    profile_init(&p, A);
    wide(&p, "w.py", 200, 1);
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nhot, 180);
    CHECK_EQ_INT(g.nshown, 200);
    CHECK(g.nodes[node(&g, "w.py", "serve")].shown_rank != GRAPH_NO_NODE);

    /* 400 equal leaves (401 nodes, goal 90 %): 360 wanted; leaves of one
     * caller are cheap to lay out, so the default budget holds them all
     * (only the root is above the node fraction for context) */
    profile_init(&p, A);
    wide(&p, "w.py", 400, 1);
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nhot, 360);
    CHECK_EQ_INT(g.nshown, 361);

    /* 600 leaves: past PRUNE_SMALL_PROFILE nodes the goal is 80 % */
    profile_init(&p, A);
    wide(&p, "w.py", 250, 1);
    wide(&p, "v.py", 350, 1);
    build(&g, &p, &o);
    CHECK(g.hot_goal == PRUNE_GOAL_LARGE);
    CHECK_EQ_INT(g.nhot, 480);

    /* 4,000 leaves: 3,200 wanted.  Their calls (1 sample each) fall
     * under the edge fraction, so every box, the root too, is drawn
     * without an arrow: PRUNE_AUTO_MAX_LEAVES boxes in all */
    profile_init(&p, A);
    wide(&p, "w.py", 4000, 1);
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nshown_edges, 0);
    CHECK_EQ_INT(g.nhot, PRUNE_AUTO_MAX_LEAVES - 1);
    CHECK_EQ_INT(g.nshown, PRUNE_AUTO_MAX_LEAVES);

    /* 600 handlers, each calling its own helper, one sample in each,
     * every call drawn (--edge-fraction 0).  960 of 1,200 samples
     * wanted: the 600 handlers first (inclusive 2), then 360 helpers.  A
     * handler whose helper is shown has an arrow in and one out (linked,
     * dear to lay out): with the root, 361 linked boxes, so 61 of those
     * handlers go (their helpers stay, under a dotted arrow from the
     * root) and 300 boxes are linked */
    profile_init(&p, A);
    o.edge_fraction = 0;
    uint32_t root = fr(&p, "w.py", 1, "serve");
    char name[16];
    for (int i = 0; i < 600; i++) {
        snprintf(name, sizeof(name), "h%d", i);
        uint32_t h = fr(&p, "h.py", 10 + i, name);
        snprintf(name, sizeof(name), "x%d", i);
        add(&p, 1, 2, h, root);
        add(&p, 1, 3, fr(&p, "x.py", 10 + i, name), h, root);
    }
    build(&g, &p, &o);
    uint32_t linked = 0, shown_x = 0;
    for (uint32_t r = 0; r < g.nshown; r++) {
        uint32_t id = g.shown[r];
        int out = 0;
        for (size_t i = 0; i < g.nshown_edges; i++) {
            out += g.shown_edges[i].from == id && g.shown_edges[i].to != id;
        }
        linked += out > 0;
        shown_x += g.nodes[id].file[0] == 'x';
    }
    CHECK_EQ_INT(linked, PRUNE_AUTO_MAX_NODES);
    CHECK_EQ_INT(shown_x, 360);
    CHECK_EQ_INT(g.nhot, 960 - 61);
    CHECK_EQ_INT(g.nshown, 960 - 61 + 1);
    render_opts_init(&o);

    /* an explicit --max-nodes does not grow */
    profile_init(&p, A);
    wide(&p, "w.py", 200, 1);
    o.max_nodes = 80;
    o.max_nodes_given = 1;
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nshown, 80);
}

static void
test_pass_through_chains_collapse(void)
{
    struct profile p;
    struct render_opts o;
    struct graph g;
    profile_init(&p, A);
    render_opts_init(&o);
    /* root -> p1 -> p2 -> p3 -> {l1, l2}: p1 and p2 only pass samples
     * through, p3 branches */
    uint32_t root = fr(&p, "c.py", 1, "root"), p1 = fr(&p, "c.py", 2, "p1");
    uint32_t p2 = fr(&p, "c.py", 3, "p2"), p3 = fr(&p, "c.py", 4, "p3");
    uint32_t l1 = fr(&p, "c.py", 5, "l1"), l2 = fr(&p, "c.py", 6, "l2");
    add(&p, 50, 5, l1, p3, p2, p1, root);
    add(&p, 50, 5, l2, p3, p2, p1, root);
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nshown, 4);
    CHECK_EQ_INT(g.nodes[node(&g, "c.py", "p1")].shown_rank, GRAPH_NO_NODE);
    CHECK_EQ_INT(g.nodes[node(&g, "c.py", "p2")].shown_rank, GRAPH_NO_NODE);
    const struct graph_edge *e = shown_edge(&g, node(&g, "c.py", "root"),
                                            node(&g, "c.py", "p3"));
    CHECK(e != NULL && e->bridged && e->weight == 100);
    CHECK(e != NULL && e->hidden_min == 2 && e->hidden_max == 2);
    char sum[256];
    present_hidden(&g, sum, sizeof(sum));
    CHECK_STR(sum, "2 hidden functions have no self samples");
    e = shown_edge(&g, node(&g, "c.py", "p3"), node(&g, "c.py", "l1"));
    CHECK(e != NULL && !e->bridged && e->hidden_max == 0);

    /* p1 recursing makes some paths longer: the edge gives the range */
    add(&p, 10, 6, l1, p3, p2, p1, p1, root);
    build(&g, &p, &o);
    e = shown_edge(&g, node(&g, "c.py", "root"), node(&g, "c.py", "p3"));
    CHECK(e != NULL && e->bridged && e->weight == 110);
    CHECK(e != NULL && e->hidden_min == 2 && e->hidden_max == 3);

    /* --max-nodes 0 shows them all */
    o.max_nodes = 0;
    o.max_nodes_given = 1;
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nshown, 6);
}

static void
test_bridged_edges(void)
{
    struct profile p;
    struct render_opts o;
    struct graph g;
    profile_init(&p, A);
    render_opts_init(&o);
    uint32_t a = fr(&p, "b.py", 1, "a"), b = fr(&p, "b.py", 2, "b");
    uint32_t c = fr(&p, "b.py", 3, "c"), e = fr(&p, "b.py", 4, "e");
    add(&p, 1, 3, c, b, a);     /* a -> b -> c, b only passes through */
    add(&p, 10, 3, c, e, a);    /* a -> e -> c */
    add(&p, 5, 2, e, a);        /* e has self samples */
    o.max_nodes = 3;
    build(&g, &p, &o);
    uint32_t na = node(&g, "b.py", "a"), nb = node(&g, "b.py", "b");
    uint32_t nc = node(&g, "b.py", "c"), ne = node(&g, "b.py", "e");
    CHECK_EQ_INT(g.nshown, 3);
    CHECK_EQ_INT(g.nodes[nb].shown_rank, GRAPH_NO_NODE);
    const struct graph_edge *ac = shown_edge(&g, na, nc);
    CHECK(ac != NULL && ac->bridged && ac->weight == 1);
    CHECK(ac != NULL && ac->hidden_min == 1 && ac->hidden_max == 1);
    const struct graph_edge *ae = shown_edge(&g, na, ne);
    CHECK(ae != NULL && !ae->bridged && ae->weight == 15);
    const struct graph_edge *ec = shown_edge(&g, ne, nc);
    CHECK(ec != NULL && !ec->bridged && ec->weight == 10);
    CHECK(shown_edge(&g, na, nb) == NULL);
    CHECK(graph_find_edge(&g, na, nc) == NULL);  /* not a direct call */
    CHECK_EQ_INT(g.nshown_edges, 3);

    /* a direct call in one stack makes the edge solid, and its weight
     * counts both paths */
    add(&p, 2, 2, c, a);
    build(&g, &p, &o);
    ac = shown_edge(&g, node(&g, "b.py", "a"), node(&g, "b.py", "c"));
    CHECK(ac != NULL && !ac->bridged && ac->weight == 3);
}

static void
test_focus_ignore(void)
{
    struct profile p;
    struct render_opts o;
    struct graph g;
    struct diag d;
    profile_init(&p, A);
    render_opts_init(&o);
    uint32_t a = fr(&p, "app/main.py", 1, "a");
    uint32_t b = fr(&p, "app/db.py", 2, "query");
    uint32_t c = fr(&p, "lib/json.py", 3, "dumps");
    add(&p, 5, 2, b, a);
    add(&p, 3, 2, c, a);
    add(&p, 1, 1, a);

    CHECK_EQ_INT(regcomp(&o.focus_re, "^query$", REG_EXTENDED | REG_NOSUB),
                 0);
    o.has_focus = 1;
    build(&g, &p, &o);
    CHECK_EQ_INT(g.total, 5);
    CHECK_EQ_INT(g.profile_total, 9);
    CHECK_EQ_INT(g.nnodes, 2);
    CHECK_EQ_INT(g.frame_node[c], GRAPH_NO_NODE);
    CHECK_EQ_INT(g.stack_kept[0], 1);
    CHECK_EQ_INT(g.stack_kept[1], 0);
    CHECK_EQ_INT(g.stack_kept[2], 0);
    regfree(&o.focus_re);
    o.has_focus = 0;

    /* ignore matches a file name too */
    CHECK_EQ_INT(regcomp(&o.ignore_re, "^lib/", REG_EXTENDED | REG_NOSUB),
                 0);
    o.has_ignore = 1;
    build(&g, &p, &o);
    CHECK_EQ_INT(g.total, 6);
    CHECK_EQ_INT(g.nodes[node(&g, "app/main.py", "a")].incl, 6);
    CHECK_EQ_INT(node(&g, "lib/json.py", "dumps"), GRAPH_NO_NODE);
    regfree(&o.ignore_re);

    /* nothing left: an error, not an empty picture */
    CHECK_EQ_INT(regcomp(&o.ignore_re, "main", REG_EXTENDED | REG_NOSUB), 0);
    CHECK_EQ_INT(graph_build(&g, A, &p, &o, &d), -1);
    CHECK_EQ_INT(d.kind, DIAG_USAGE);
    regfree(&o.ignore_re);
    (void)a;
}

static void
test_empty_profile(void)
{
    struct profile p;
    struct render_opts o;
    struct graph g;
    profile_init(&p, A);
    render_opts_init(&o);
    build(&g, &p, &o);
    CHECK_EQ_INT(g.nnodes, 0);
    CHECK_EQ_INT(g.nshown, 0);
    CHECK_EQ_INT(g.total, 0);
    char sum[128];
    present_summary(&g, sum, sizeof(sum));
    CHECK_STR(sum, "showing 0 of 0 functions, 0.0 % of self samples");
}

static void
test_colors_and_text(void)
{
    char c1[8], c2[8], c3[8], buf[32];
    present_file_color("a/b.py", 6, c1);
    present_file_color("a/b.py", 6, c2);
    present_file_color("a/c.py", 6, c3);
    CHECK_STR(c1, c2);
    CHECK(strcmp(c1, c3) != 0);
    CHECK_EQ_INT(strlen(c1), 7);
    CHECK(c1[0] == '#');

    struct profile p;
    struct render_opts o;
    struct graph g;
    profile_init(&p, A);
    render_opts_init(&o);
    fan_out(&p);
    build(&g, &p, &o);
    present_node_color(&g, node(&g, "f.py", "x1"), RENDER_COLOR_HEAT, c1);
    CHECK_STR(c1, "#e8503e");
    present_node_color(&g, node(&g, "f.py", "a"), RENDER_COLOR_HEAT, c1);
    CHECK_STR(c1, "#fff5d6");
    present_node_color(&g, node(&g, "f.py", "a"), RENDER_COLOR_FILE, c2);
    present_file_color("f.py", 4, c3);
    CHECK_STR(c2, c3);

    CHECK_STR(present_count(0, buf), "0");
    CHECK_STR(present_count(999, buf), "999");
    CHECK_STR(present_count(4337, buf), "4,337");
    CHECK_STR(present_count(1234567, buf), "1,234,567");

    struct graph_node n = {0};
    n.file = "/usr/lib/python3/json/encoder.py";
    n.file_len = (uint32_t)strlen(n.file);
    n.line = 258;
    present_short_loc(&n, buf, sizeof(buf));
    CHECK_STR(buf, "encoder.py:258");
}

int
main(void)
{
    A = arena_new();
    RUN(test_self_incl_edges);
    RUN(test_recursion_counted_once);
    RUN(test_granularity);
    RUN(test_anonymous_functions);
    RUN(test_merge_inputs);
    RUN(test_prune_order);
    RUN(test_same_name_first_lines);
    RUN(test_budget_grows_for_the_goal);
    RUN(test_pass_through_chains_collapse);
    RUN(test_bridged_edges);
    RUN(test_focus_ignore);
    RUN(test_empty_profile);
    RUN(test_colors_and_text);
    arena_free(A);
    return check_report();
}
