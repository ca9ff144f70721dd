/*
 * test_diff.c: comparisons (render/diff.c) and the differential collapsed
 * format (two counts per line, render/parse_collapsed.c): per-side
 * counts with recursion counted once, the graph rewritten to the NEW
 * side, vanished functions kept, changes in points and in samples, the
 * noise test, labels and colours, the pinning of changed functions
 * through pruning, per-side weights of the shown edges, and the base
 * samples of each call path of the flame graph.
 */
#include <math.h>
#include <string.h>

#include "arena.h"
#include "check.h"
#include "diff.h"
#include "flametree.h"
#include "graph.h"
#include "load.h"
#include "opts.h"
#include "profile.h"

static struct arena *A;
static struct diag d;

static uint32_t
node(const struct graph *g, const char *func)
{
    for (uint32_t i = 0; i < g->nnodes; i++) {
        if (strcmp(g->nodes[i].func, func) == 0) {
            return i;
        }
    }
    return GRAPH_NO_NODE;
}

static int
load(struct profile *p, uint32_t side, const char *text)
{
    p->side = side;
    int rc = load_buffer(p, "t", text, strlen(text), 0, &d);
    p->side = PROFILE_SIDE_NEW;
    return rc;
}

static void
test_two_count_lines(void)
{
    struct profile p;
    profile_init(&p, A);
    CHECK_EQ_INT(load(&p, PROFILE_SIDE_NEW, "main;f 3 5\nmain;g 0 7\n"
                      "main;h 4 0\nmain;k 9\n f x 1\t2 \r\n"), 0);
    CHECK_EQ_INT(p.has_pairs, 1);
    CHECK_EQ_INT(p.nstacks, 7);
    CHECK_EQ_INT(p.side_total[PROFILE_SIDE_BASE], 3 + 4 + 1);
    CHECK_EQ_INT(p.side_total[PROFILE_SIDE_NEW], 5 + 7 + 9 + 2);
    CHECK_EQ_INT(p.total, 31);
    /* main;f: one stack per side, sharing the frames. */
    CHECK_EQ_INT(p.stacks[0].side, PROFILE_SIDE_BASE);
    CHECK_EQ_INT(p.stacks[0].count, 3);
    CHECK_EQ_INT(p.stacks[1].side, PROFILE_SIDE_NEW);
    CHECK_EQ_INT(p.stacks[1].count, 5);
    CHECK(p.stacks[0].frames == p.stacks[1].frames);
    /* Zero counts are dropped; a one-count line is the new side. */
    CHECK_EQ_INT(p.stacks[2].side, PROFILE_SIDE_NEW);
    CHECK_EQ_INT(p.stacks[2].count, 7);
    CHECK_EQ_INT(p.stacks[3].side, PROFILE_SIDE_BASE);
    CHECK_EQ_INT(p.stacks[4].side, PROFILE_SIDE_NEW);
    CHECK_EQ_INT(p.stacks[4].count, 9);
    /* Two numbers end a line: counts, as flamegraph.pl reads them;
     * blanks inside the frame stay in its name. */
    CHECK_STR(p.frames[p.stacks[6].frames[0]].func, "f x");
    CHECK_EQ_INT(p.stacks[5].side, PROFILE_SIDE_BASE);
    CHECK_EQ_INT(p.stacks[5].count, 1);
    CHECK_EQ_INT(p.stacks[6].count, 2);

    /* One count alone is no comparison. */
    struct profile q;
    profile_init(&q, A);
    CHECK_EQ_INT(load(&q, PROFILE_SIDE_NEW, "a;b 10\n1 2\n"), 0);
    CHECK_EQ_INT(q.has_pairs, 0);
    CHECK_STR(q.frames[q.stacks[1].frames[0]].func, "1");

    /* Either count past the limit is an error at that count. */
    struct profile r;
    profile_init(&r, A);
    CHECK_EQ_INT(load(&r, PROFILE_SIDE_NEW, "a;b 10000000000000000 1\n"), -1);
    CHECK(strncmp(d.msg, "t:1:5: error: count 10000000000000000 is larger "
                  "than the limit", 60) == 0);
}

/*
 * Base (100): main>work 60, main>work>work 20, main 20.
 * New (200):  main>work 30, main>db 150, main>db>render 20.
 */
static void
build(struct profile *p, struct graph *g, struct diff *df,
      struct render_opts *o, enum render_diff_mode mode)
{
    profile_init(p, A);
    CHECK_EQ_INT(load(p, PROFILE_SIDE_BASE,
                      "main;work 60\nmain;work;work 20\nmain 20\n"), 0);
    CHECK_EQ_INT(load(p, PROFILE_SIDE_NEW,
                      "main;work 30\nmain;db 150\nmain;db;render 20\n"), 0);
    CHECK_EQ_INT(graph_build(g, A, p, o, &d), 0);
    diff_build(df, A, g, mode);
}

static void
test_counts_and_rewrite(void)
{
    struct profile p;
    struct graph g;
    struct diff df;
    struct render_opts o;
    render_opts_init(&o);
    build(&p, &g, &df, &o, RENDER_DIFF_SHARE);
    CHECK(g.diff == &df);
    CHECK_EQ_INT(df.total[DIFF_BASE], 100);
    CHECK_EQ_INT(df.total[DIFF_NEW], 200);
    CHECK_EQ_INT(g.total, 200);
    CHECK_EQ_INT(g.profile_total, 200);
    CHECK_EQ_INT(g.nstacks_kept, 3);
    CHECK_EQ_INT(g.nnodes, 4);
    uint32_t work = node(&g, "work"), main_ = node(&g, "main");
    uint32_t db = node(&g, "db");
    /* Recursion once per sample: work's base inclusive is 80, not 100. */
    CHECK_EQ_INT(df.nodes[work].self[DIFF_BASE], 80);
    CHECK_EQ_INT(df.nodes[work].incl[DIFF_BASE], 80);
    CHECK_EQ_INT(df.nodes[work].self[DIFF_NEW], 30);
    CHECK_EQ_INT(df.nodes[main_].self[DIFF_BASE], 20);
    CHECK_EQ_INT(df.nodes[main_].incl[DIFF_NEW], 200);
    /* The graph holds NEW's counts. */
    CHECK_EQ_INT(g.nodes[work].self, 30);
    CHECK_EQ_INT(g.nodes[db].incl, 170);
    CHECK_EQ_INT(g.nodes[main_].self, 0);
    CHECK_EQ_INT(g.max_self, 150);
    /* work -> work exists only in the base: NEW weight 0. */
    const struct graph_edge *ww = graph_find_edge(&g, work, work);
    CHECK(ww != NULL);
    if (ww != NULL) {
        CHECK_EQ_INT(ww->weight, 0);
        CHECK_EQ_INT(df.edge_w[DIFF_BASE][ww - g.edges], 20);
    }
    const struct graph_edge *mw = graph_find_edge(&g, main_, work);
    CHECK(mw != NULL);
    if (mw != NULL) {
        CHECK_EQ_INT(mw->weight, 30);
        CHECK_EQ_INT(df.edge_w[DIFF_BASE][mw - g.edges], 80);
    }

    /* Points: work 80 % -> 15 %; db 0 -> 75 %. */
    CHECK(fabs(diff_change(&df, 80, 30) - -65.0) < 1e-9);
    CHECK(fabs(diff_value(&df, DIFF_BASE, 20) - 20.0) < 1e-9);
    char buf[64];
    diff_label(&df, 80, 30, buf, sizeof(buf));
    CHECK_STR(buf, "15.0 % (-65.0)");
    diff_label(&df, 0, 150, buf, sizeof(buf));
    CHECK_STR(buf, "75.0 % (+75.0)");
    /* Held at the same share: no "-0.0". */
    diff_label(&df, 10, 20, buf, sizeof(buf));
    CHECK_STR(buf, "10.0 % (+0.0)");
    struct diff fine = df;
    fine.total[DIFF_BASE] = fine.total[DIFF_NEW] = 10000;
    diff_label(&fine, 1000, 999, buf, sizeof(buf));
    CHECK_STR(buf, "10.0 % (+0.0)");
    diff_label(&fine, 1000, 994, buf, sizeof(buf));
    CHECK_STR(buf, "9.9 % (-0.1)");

    df.mode = RENDER_DIFF_ABSOLUTE;
    diff_label(&df, 80, 30, buf, sizeof(buf));
    CHECK_STR(buf, "30 (-50)");
    diff_label(&df, 0, 1500, buf, sizeof(buf));
    CHECK_STR(buf, "1,500 (+1,500)");
    CHECK(fabs(diff_change(&df, 80, 30) - -50.0) < 1e-9);
}

static void
test_noise_and_colour(void)
{
    struct diff df;
    memset(&df, 0, sizeof(df));
    df.mode = RENDER_DIFF_SHARE;
    df.total[DIFF_BASE] = 10000;
    df.total[DIFF_NEW] = 10000;
    /* 50 % vs 51 %: z = 0.01 / sqrt(.505 * .495 * 2e-4) = 1.41: held. */
    CHECK_EQ_INT(diff_significant(&df, 5000, 5100), 0);
    /* 50 % vs 53 %: z = 4.2: changed. */
    CHECK_EQ_INT(diff_significant(&df, 5000, 5300), 1);
    CHECK_EQ_INT(diff_significant(&df, 0, 0), 0);
    char c[8];
    diff_color(&df, 5000, 5100, c);
    CHECK_STR(c, "#e4e4e4");
    /* Grew by 3 points: 0.25 + 0.75 * 0.15 = 0.3625 of the way to red. */
    diff_color(&df, 5000, 5300, c);
    CHECK_STR(c, "#f6b4ae");
    /* Shrank by 20 points or more: full green. */
    diff_color(&df, 5000, 3000, c);
    CHECK_STR(c, "#5cb85c");
    diff_line_color(&df, 5000, 5300, c);
    CHECK_STR(c, "#d0342c");

    /* Absolute: Poisson, |n - b| / sqrt(n + b) >= 3. */
    df.mode = RENDER_DIFF_ABSOLUTE;
    CHECK_EQ_INT(diff_significant(&df, 100, 120), 0);  /* 1.35 */
    CHECK_EQ_INT(diff_significant(&df, 100, 140), 0);  /* 2.58 */
    CHECK_EQ_INT(diff_significant(&df, 100, 150), 1);  /* 3.16 */
    /* One side empty: any count is a change. */
    df.mode = RENDER_DIFF_SHARE;
    df.total[DIFF_BASE] = 0;
    CHECK_EQ_INT(diff_significant(&df, 0, 1), 1);
    CHECK_EQ_INT(diff_significant(&df, 0, 0), 0);
}

static void
test_pins_and_shown_edges(void)
{
    /* Base: main>old 500 and main>a..h 10 each; new: main>new 5 and
     * main>a..h 100 each.  With --max-nodes 4 the big a..h would fill
     * the picture; old (vanished) and new are pinned first. */
    static const char base[] =
        "main;old 500\nmain;a 10\nmain;b 10\nmain;c 10\nmain;d 10\n"
        "main;e 10\nmain;f 10\nmain;g 10\nmain;h 10\n";
    static const char now[] =
        "main;new 50\nmain;a 100\nmain;b 100\nmain;c 100\nmain;d 100\n"
        "main;e 100\nmain;f 100\nmain;g 100\nmain;h 100\n";
    struct profile p;
    struct graph g;
    struct diff df;
    struct render_opts o;
    render_opts_init(&o);
    o.max_nodes = 4;
    o.max_nodes_given = 1;
    profile_init(&p, A);
    CHECK_EQ_INT(load(&p, PROFILE_SIDE_BASE, base), 0);
    CHECK_EQ_INT(load(&p, PROFILE_SIDE_NEW, now), 0);
    CHECK_EQ_INT(graph_build(&g, A, &p, &o, &d), 0);
    diff_build(&df, A, &g, RENDER_DIFF_SHARE);
    diff_pin_changes(&df, &g, A, &o);
    /* A quarter of 4: one pin, the largest change (old: -86.2 points). */
    CHECK_EQ_INT(g.npinned, 1);
    CHECK_EQ_INT(g.pinned[0], node(&g, "old"));
    graph_prune(&g, A, &o);
    diff_after_prune(&df, &g, A);
    CHECK_EQ_INT(g.nshown, 4);
    uint32_t old = node(&g, "old"), main_ = node(&g, "main");
    CHECK(g.nodes[old].shown_rank != GRAPH_NO_NODE);
    CHECK(g.nodes[main_].shown_rank != GRAPH_NO_NODE);
    /* The edge main -> old: base 500, new 0. */
    int found = 0;
    for (size_t i = 0; i < g.nshown_edges; i++) {
        if (g.shown_edges[i].from == main_ && g.shown_edges[i].to == old) {
            found = 1;
            CHECK_EQ_INT(g.shown_edges[i].weight, 0);
            CHECK_EQ_INT(df.shown_edge_w[DIFF_BASE][i], 500);
            CHECK_EQ_INT(df.shown_edge_w[DIFF_NEW][i], 0);
        }
    }
    CHECK(found);
    /* The flame graph sees NEW's stacks only; budgets all of them. */
    for (size_t s = 0; s < p.nstacks; s++) {
        CHECK_EQ_INT(g.stack_kept[s], p.stacks[s].side == PROFILE_SIDE_NEW);
        CHECK_EQ_INT(df.kept_both[s], 1);
    }

    /* Unlimited nodes: every significant change is pinned (old, new, and
     * a..h, which went from 1.1 % to 11.0 %); main held at 100 %. */
    render_opts_init(&o);
    o.max_nodes = 0;
    profile_init(&p, A);
    CHECK_EQ_INT(load(&p, PROFILE_SIDE_BASE, base), 0);
    CHECK_EQ_INT(load(&p, PROFILE_SIDE_NEW, now), 0);
    CHECK_EQ_INT(graph_build(&g, A, &p, &o, &d), 0);
    diff_build(&df, A, &g, RENDER_DIFF_SHARE);
    diff_pin_changes(&df, &g, A, &o);
    CHECK_EQ_INT(g.npinned, 10);
}

static void
test_order_by_change(void)
{
    struct profile p;
    struct graph g;
    struct diff df;
    struct render_opts o;
    render_opts_init(&o);
    build(&p, &g, &df, &o, RENDER_DIFF_SHARE);
    uint32_t *ids = diff_order_by_change(&df, &g, A);
    CHECK_STR(g.nodes[ids[0]].func, "db");       /* +75 */
    CHECK_STR(g.nodes[ids[1]].func, "render");   /* +10 */
    CHECK_STR(g.nodes[ids[2]].func, "main");     /* -20 */
    CHECK_STR(g.nodes[ids[3]].func, "work");     /* -65 */
}

static void
test_flame_base(void)
{
    /* json grew through a and shrank through b; x only in the base. */
    struct profile p;
    struct graph g;
    struct diff df;
    struct render_opts o;
    struct flame_tree t;
    render_opts_init(&o);
    profile_init(&p, A);
    CHECK_EQ_INT(load(&p, PROFILE_SIDE_BASE, "main;a;json 100\n"
                      "main;b;json 100\nmain;x 200\nmain;a;json;json 5\n"),
                 0);
    CHECK_EQ_INT(load(&p, PROFILE_SIDE_NEW, "main;a;json 300\n"
                      "main;b;json 50\nmain;c 50\n"), 0);
    CHECK_EQ_INT(graph_build(&g, A, &p, &o, &d), 0);
    diff_build(&df, A, &g, RENDER_DIFF_SHARE);
    diff_pin_changes(&df, &g, A, &o);
    graph_prune(&g, A, &o);
    diff_after_prune(&df, &g, A);
    flame_tree_build(&t, A, &g, 1000, 1000);
    const uint64_t *base = diff_flame_base(&df, &g, &t, A);
    /* Preorder: all, main, a, json, b, json, c (by decreasing value). */
    CHECK_EQ_INT(t.n, 7);
    static const char *const want_name[] = {NULL, "main", "a", "json", "b",
                                            "json", "c"};
    static const uint64_t want_v[] = {400, 400, 300, 300, 50, 50, 50};
    /* The base's a;json;json stack counts for a;json, not deeper: that
     * path is not in NEW's tree. */
    static const uint64_t want_b[] = {405, 405, 105, 105, 100, 100, 0};
    for (size_t i = 0; i < t.n && i < 7; i++) {
        if (want_name[i] != NULL) {
            CHECK_STR(g.nodes[t.node[i]].func, want_name[i]);
        }
        CHECK_EQ_INT(t.value[i], want_v[i]);
        CHECK_EQ_INT(base[i], want_b[i]);
    }
}

int
main(void)
{
    A = arena_new();
    RUN(test_two_count_lines);
    RUN(test_counts_and_rewrite);
    RUN(test_noise_and_colour);
    RUN(test_pins_and_shown_edges);
    RUN(test_order_by_change);
    RUN(test_flame_base);
    arena_free(A);
    return check_report();
}
