/*
 * test_flametree.c: the flame graph's tree (flametree.c): merging of
 * stacks root first, preorder with siblings by decreasing value, recursion
 * kept as nested frames, the size budget (divisor, then max_nodes), the
 * omitted count, independence from input order, and a stack as deep as
 * the parser allows (no recursion in the builder).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "check.h"
#include "flametree.h"
#include "graph.h"
#include "opts.h"
#include "profile.h"

static struct arena *A;

static uint32_t
fr(struct profile *p, const char *func)
{
    int64_t id = profile_intern(p, "m.py", 4, 1, func, strlen(func));
    CHECK(id >= 0);
    return (uint32_t)id;
}

/* Adds a stack of n function names, leaf first. */
static void
add(struct profile *p, uint64_t count, int n, ...)
{
    uint32_t ids[16];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        ids[i] = fr(p, va_arg(ap, const char *));
    }
    va_end(ap);
    CHECK_EQ_INT(profile_add_stack(p, ids, (uint32_t)n, count), 0);
}

static void
build(struct graph *g, struct profile *p)
{
    struct render_opts o;
    struct diag d;
    render_opts_init(&o);
    CHECK_EQ_INT(graph_build(g, A, p, &o, &d), 0);
    graph_prune(g, A, &o);
}

/* The tree as "name/depth/value" words, for comparing in one string. */
static const char *
show(const struct graph *g, const struct flame_tree *t)
{
    static char buf[4096];
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < t->n && o < sizeof(buf) - 64; i++) {
        const char *name = t->node[i] == GRAPH_NO_NODE ? "all"
                           : g->nodes[t->node[i]].func;
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s/%u/%llu",
                              i ? " " : "", name, t->depth[i],
                              (unsigned long long)t->value[i]);
    }
    return buf;
}

/* a->b->c 5, a->b 3, a->d 2, e 1 (root first). */
static void
sample(struct profile *p, int reversed)
{
    if (!reversed) {
        add(p, 5, 3, "c", "b", "a");
        add(p, 3, 2, "b", "a");
        add(p, 2, 2, "d", "a");
        add(p, 1, 1, "e");
    }
    else {
        add(p, 1, 1, "e");
        add(p, 2, 2, "d", "a");
        add(p, 3, 2, "b", "a");
        add(p, 5, 3, "c", "b", "a");
    }
}

static void
test_merge_and_order(void)
{
    struct profile p;
    struct graph g;
    struct flame_tree t;
    profile_init(&p, A);
    sample(&p, 0);
    build(&g, &p);
    flame_tree_build(&t, A, &g, 0, 1000);
    CHECK_STR(show(&g, &t), "all/0/11 a/1/10 b/2/8 c/3/5 d/2/2 e/1/1");
    CHECK_EQ_INT(t.min, 1);
    CHECK_EQ_INT(t.omitted, 0);
    CHECK_EQ_INT(t.max_depth, 3);
}

static void
test_input_order_does_not_matter(void)
{
    struct profile p1, p2;
    struct graph g1, g2;
    struct flame_tree t1, t2;
    profile_init(&p1, A);
    profile_init(&p2, A);
    sample(&p1, 0);
    sample(&p2, 1);
    build(&g1, &p1);
    build(&g2, &p2);
    flame_tree_build(&t1, A, &g1, 0, 1000);
    flame_tree_build(&t2, A, &g2, 0, 1000);
    char a[4096];
    snprintf(a, sizeof(a), "%s", show(&g1, &t1));
    CHECK_STR(show(&g2, &t2), a);
}

static void
test_recursion_nests(void)
{
    struct profile p;
    struct graph g;
    struct flame_tree t;
    profile_init(&p, A);
    add(&p, 4, 3, "f", "f", "f");
    add(&p, 1, 1, "f");
    build(&g, &p);
    flame_tree_build(&t, A, &g, 0, 1000);
    CHECK_STR(show(&g, &t), "all/0/5 f/1/5 f/2/4 f/3/4");
}

static void
test_divisor_leaves_out_narrow_frames(void)
{
    struct profile p;
    struct graph g;
    struct flame_tree t;
    profile_init(&p, A);
    sample(&p, 0);
    build(&g, &p);
    /* min = 11 / 3 = 3: d (2) and e (1) go. */
    flame_tree_build(&t, A, &g, 3, 1000);
    CHECK_STR(show(&g, &t), "all/0/11 a/1/10 b/2/8 c/3/5");
    CHECK_EQ_INT(t.min, 3);
    CHECK_EQ_INT(t.omitted, 3);
}

static void
test_max_nodes_raises_min(void)
{
    struct profile p;
    struct graph g;
    struct flame_tree t;
    profile_init(&p, A);
    sample(&p, 0);
    build(&g, &p);
    /* min 1, 2, 4 give 5, 4, 3 nodes; min 8 keeps a and b. */
    flame_tree_build(&t, A, &g, 0, 2);
    CHECK_STR(show(&g, &t), "all/0/11 a/1/10 b/2/8");
    CHECK_EQ_INT(t.min, 8);
    CHECK_EQ_INT(t.omitted, 1 + 2 + 5);
}

static void
test_focus_drops_stacks(void)
{
    struct profile p;
    struct graph g;
    struct flame_tree t;
    struct render_opts o;
    struct diag d;
    profile_init(&p, A);
    sample(&p, 0);
    render_opts_init(&o);
    CHECK_EQ_INT(regcomp(&o.focus_re, "^d$", REG_EXTENDED | REG_NOSUB), 0);
    o.focus = "^d$";
    o.has_focus = 1;
    CHECK_EQ_INT(graph_build(&g, A, &p, &o, &d), 0);
    graph_prune(&g, A, &o);
    flame_tree_build(&t, A, &g, 0, 1000);
    CHECK_STR(show(&g, &t), "all/0/2 a/1/2 d/2/2");
    regfree(&o.focus_re);
}

static void
test_empty_profile(void)
{
    struct profile p;
    struct graph g;
    struct flame_tree t;
    profile_init(&p, A);
    build(&g, &p);
    flame_tree_build(&t, A, &g, FLAME_HTML_DIVISOR, FLAME_HTML_MAX_NODES);
    CHECK_STR(show(&g, &t), "all/0/0");
}

static void
test_deepest_stack(void)
{
    struct profile p;
    struct graph g;
    struct flame_tree t;
    uint32_t n = PROFILE_MAX_DEPTH;
    uint32_t *ids = malloc(n * sizeof(*ids));
    profile_init(&p, A);
    for (uint32_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "f%u", i);
        ids[i] = fr(&p, name);
    }
    CHECK_EQ_INT(profile_add_stack(&p, ids, n, 3), 0);
    free(ids);
    build(&g, &p);
    flame_tree_build(&t, A, &g, FLAME_HTML_DIVISOR, (size_t)n + 1);
    CHECK_EQ_INT(t.n, (size_t)n + 1);
    CHECK_EQ_INT(t.max_depth, n);
    CHECK_EQ_INT(t.value[n], 3);
    /* Over the budget: min doubles past the total, only the root stays. */
    flame_tree_build(&t, A, &g, FLAME_HTML_DIVISOR, 1000);
    CHECK_EQ_INT(t.n, 1);
    CHECK_EQ_INT(t.omitted, 3);
}

int
main(void)
{
    A = arena_new();
    RUN(test_merge_and_order);
    RUN(test_input_order_does_not_matter);
    RUN(test_recursion_nests);
    RUN(test_divisor_leaves_out_narrow_frames);
    RUN(test_max_nodes_raises_min);
    RUN(test_focus_drops_stacks);
    RUN(test_empty_profile);
    RUN(test_deepest_stack);
    arena_free(A);
    return check_report();
}
