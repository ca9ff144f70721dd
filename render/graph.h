/*
 * graph.h: the weighted call graph of a profile (graph.c) and its pruning
 * to something a person can read (prune.c).  How nodes are drawn
 * (colours, number formats, the summary line) is present.h's.
 *
 * Counting follows pprof's internal/graph: every node and every edge is
 * counted at most once per stack, so recursion is exact.  For a stack
 * with count c (leaf first: frames[0] is the running function):
 *   - node self      += c for the node of frames[0];
 *   - node inclusive += c for each distinct node among the frames;
 *   - edge (caller -> callee) += c for each distinct pair
 *     (node of frames[i+1], node of frames[i]).  A function calling itself
 *     (directly, or two lines of one function merged) gives a self edge.
 *
 * Use:
 *     graph_build(&g, arena, prof, opts, &d);   nodes and edges of all
 *     graph_prune(&g, arena, opts);             what the picture shows
 *     ... gv.c / text.c / html.c read g ...
 *
 * Ownership: everything lives in the arena given to graph_build() and
 * goes with it.  The graph keeps pointers into the profile (strings,
 * stacks): the profile must outlive it.
 *
 * Determinism: node ids are assigned in the order of the sort key
 * (file, func, line) compared bytewise, edges are sorted by (from, to),
 * the shown list by a total order on counts then ids.  Nothing depends on
 * hash order, addresses or the order of frames in the input.
 */
#ifndef PLOP_GRAPH_H
#define PLOP_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "opts.h"

struct arena;
struct diff;
struct profile;

#define GRAPH_NO_NODE UINT32_MAX

struct graph_node {
    const char *file;       /* UTF-8, NUL-terminated, owned by the profile */
    const char *func;       /* func[0..func_len) is the name to show: see
                             * `kind` */
    uint32_t file_len;
    uint32_t func_len;
    /* A frame without a file whose name ends in one of flamegraph.pl's
     * annotations _[k] (kernel), _[j] (JIT), _[i] (inlined), _[w] (waker)
     * shows without it: func_len leaves it out and kind is 'k', 'j', 'i'
     * or 'w' (0 otherwise).  The annotation still tells nodes apart. */
    char kind;
    long line;              /* granularity function: smallest line seen */
    uint64_t self;          /* samples with this node as the leaf */
    uint64_t incl;          /* samples with this node anywhere (once each) */
    uint32_t shown_rank;    /* index in graph.shown, GRAPH_NO_NODE if pruned */
};

struct graph_edge {
    uint32_t from;          /* caller node id */
    uint32_t to;            /* callee node id */
    uint64_t weight;        /* samples containing the call, once each */
    int bridged;            /* shown edges only: the caller reaches the
                             * callee only through pruned nodes (dotted) */
    uint32_t hidden_min;    /* bridged edges: the fewest and the most */
    uint32_t hidden_max;    /* frames a stack skips between the two; else 0 */
};

/*
 * A box of hidden functions (prune.c, step 7): the samples whose running
 * function is hidden, charged to the nearest shown frame above it (the
 * caller).  Each such sample is in exactly one tail or in none (no shown
 * frame on its stack, or a tail too small to draw), never in a shown
 * node's self.
 */
struct graph_tail {
    uint32_t caller;        /* shown node id */
    uint32_t nfuncs;        /* distinct hidden functions running below it */
    uint64_t self;          /* their samples that have `caller` as the
                             * nearest shown frame */
    uint64_t max_self;      /* the largest full-graph self of one of them
                             * (all its samples, under any caller) */
};

struct graph {
    enum render_granularity granularity;
    const struct profile *prof;

    /* All nodes (every function seen in a kept stack), sorted by
     * (file, func, line); the index is the node id. */
    struct graph_node *nodes;
    uint32_t nnodes;

    /* All direct edges, sorted by (from, to), unique. */
    struct graph_edge *edges;
    size_t nedges;

    /* frame_node[frame id] = node id, for every frame of the profile;
     * GRAPH_NO_NODE for frames that occur only in stacks dropped by
     * --focus/--ignore.  (The flame graph maps frames through this.) */
    uint32_t *frame_node;

    /* stack_kept[i] = 1 when profile stack i passed --focus/--ignore
     * (all 1 without them).  Only kept stacks are counted. */
    unsigned char *stack_kept;

    /* The profile's lines are its functions' first lines (every <module>
     * frame at line 0 or 1, see graph_build()): in function granularity
     * a node is then (file, func, first line), so two functions of one
     * name in one file (methods `run` of two classes) stay apart. */
    int first_lines;

    uint64_t total;         /* samples of the kept stacks */
    uint64_t max_self;      /* the largest self of any node */
    uint64_t profile_total; /* samples of the whole profile */
    size_t nstacks_kept;

    /* A comparison (diff.h): set by diff_build(), which rewrote the
     * counts above to the NEW side; NULL otherwise.  Writers ask it for
     * the base side and the change. */
    const struct diff *diff;

    /* Node ids graph_prune() must show whatever their size (diff.c pins
     * the functions that changed most); they count towards max_nodes.
     * NULL/0 when none. */
    const uint32_t *pinned;
    uint32_t npinned;

    /* ---- filled by graph_prune() (zero/NULL before) ---- */

    /* Node ids shown, by decreasing inclusive, then self, then id. */
    uint32_t *shown;
    uint32_t nshown;

    /* Edges drawn between shown nodes, sorted by (from, to): direct edges
     * above the edge fraction and bridged (dotted) ones.  The weight of a
     * shown edge counts the stacks in which `to` follows `from` once the
     * pruned frames are skipped, so it includes bridged paths. */
    struct graph_edge *shown_edges;
    size_t nshown_edges;

    uint64_t shown_self;    /* sum of self over shown nodes */
    uint64_t hidden_max_self; /* the largest self of a pruned node */
    double hot_goal;        /* share of self samples the hot nodes aim at */
    uint32_t nhot;          /* shown nodes chosen for their self samples */
    uint32_t dropped_nodes; /* nnodes - nshown */
    size_t dropped_edges;   /* edges between shown nodes cut by the edge
                             * fraction */
    uint64_t node_cutoff;   /* inclusive below this was dropped */

    /* Boxes of hidden functions by caller (step 7), in the shown order of
     * their callers; tail_self is the sum of their self. */
    struct graph_tail *tails;
    uint32_t ntails;
    uint64_t tail_self;
    uint64_t edge_cutoff;   /* weight below this was dropped */
};

/*
 * Builds the full graph of the stacks of `prof` kept by opts' focus and
 * ignore regexes, at opts->granularity.  In function granularity a node
 * is (file, func) with its lines merged, except anonymous code objects
 * (<listcomp>, <lambda>, <genexpr>, ...; not <module>), which keep their
 * line so that two of them in one file stay apart; when the profile's
 * lines are first lines (g->first_lines) every node keeps its line, for
 * it tells same-named functions apart.  Returns 0; returns -1 with d
 * filled (DIAG_USAGE) when no sample is left after --focus/--ignore while
 * the profile had some.  An empty profile gives an empty graph and 0.
 * Cost: O(total frames of all stacks) expected time (one hash lookup per
 * frame), O(frames + nodes + edges) memory; regexes are run once per
 * distinct frame, not per stack.
 */
/* qsort order of struct graph_edge: by caller id, then callee id. */
int graph_edge_cmp(const void *a, const void *b);

int graph_build(struct graph *g, struct arena *a,
                const struct profile *prof, const struct render_opts *opts,
                struct diag *d);

/* Node selection (prune.c). */
#define PRUNE_TOP_SELF 10           /* the largest self nodes always shown */
#define PRUNE_GOAL_SMALL 0.90       /* self share shown, up to ... */
#define PRUNE_SMALL_PROFILE 500     /* ... this many nodes */
#define PRUNE_GOAL_LARGE 0.80       /* self share shown on bigger ones */
#define PRUNE_AUTO_MAX_NODES 300    /* by default, linked boxes up to this */
#define PRUNE_AUTO_MAX_LEAVES 2500  /* ... and cheap ones (leaves) up to this */
#define PRUNE_ROUNDS 4              /* selections tried against the budget */

/*
 * Chooses what the picture shows (prune.c says why):
 *   0. g->pinned nodes (diff.c) are shown whatever their size and count
 *      towards the budget, which grows to hold them all;
 *   1. hot nodes: by self desc (ties: the rank order below), the fewest
 *      holding PRUNE_GOAL_SMALL (PRUNE_GOAL_LARGE past PRUNE_SMALL_PROFILE
 *      nodes) of all self samples, and at least the PRUNE_TOP_SELF
 *      largest (nodes with self samples only); the node fraction does not
 *      apply to them;
 *   2. the budget is opts->max_nodes (0: every node) when
 *      opts->max_nodes_given; by default max_nodes, raised to the number
 *      of pinned and hot nodes plus a quarter of max_nodes.  A quarter of
 *      max_nodes (the base) is kept for context: hot nodes past budget -
 *      pinned - that reserve are dropped (smallest self first);
 *   3. context nodes fill the rest of the budget: nodes with inclusive >=
 *      node_fraction * total, by pprof's entropyScore (visual mode), except
 *      strict pass-through nodes (self 0, one caller and one callee other
 *      than itself, all of their samples on both edges), which only an
 *      explicit --max-nodes 0 shows;
 *   4. walk every kept stack again skipping pruned frames: consecutive
 *      shown frames give a shown edge, bridged when no stack had them
 *      adjacent in the full graph, with the range of frames it skips;
 *   5. drop shown edges whose weight < edge_fraction * total;
 *   6. by default only, the layout's budget: at most PRUNE_AUTO_MAX_NODES
 *      linked boxes (with an arrow out, or more than one in: self arrows
 *      aside) and PRUNE_AUTO_MAX_LEAVES others (leaves of one caller and
 *      boxes without arrows).  Over it, the smallest hot nodes of the
 *      class that is over (never the PRUNE_TOP_SELF largest) are left out
 *      and 1-5 run again; they still count towards the goal, so no
 *      smaller node takes their place.  After PRUNE_ROUNDS tries the cut
 *      is to PRUNE_AUTO_MAX_NODES nodes in all (pinned, context and the
 *      top self ones aside);
 *   7. when step 6 left hot nodes out (by default, not in a comparison):
 *      the samples of hidden running functions are gathered by their
 *      nearest shown caller into g->tails, one box per caller holding at
 *      least node_fraction * total samples (1 at least).
 * g->shown is sorted by inclusive desc, self desc, id.  Cutoffs round up:
 * a fraction of 0 keeps everything.  Shown nodes keep their full-graph
 * self and inclusive.  Cost: O(total frames) plus sorting nodes and
 * edges, once per try (one unless the default budget is exceeded, at
 * most PRUNE_ROUNDS + 1).
 */
void graph_prune(struct graph *g, struct arena *a,
                 const struct render_opts *opts);

/* The edge (from, to) among g->edges, or NULL.  O(log nedges). */
const struct graph_edge *graph_find_edge(const struct graph *g,
                                         uint32_t from, uint32_t to);

#endif
