/*
 * diff.h: comparing two profiles (diff.c): `plop-render --base OLD...
 * NEW...`, or one collapsed file in difffolded.pl's two-count format.
 *
 * Model.  Both sides live in one struct profile, each stack tagged with
 * its side (profile.h), so frames are interned once and one graph
 * (graph_build over all stacks) gives one node id per function of either
 * side.  diff_build() then counts self, inclusive and edge samples per
 * side, with graph.h's rules (each node and edge once per sample), and
 * rewrites the graph to show the NEW side: node self/incl, edge weights
 * and the totals become NEW's, so a function that vanished is a node with
 * 0 samples whose BASE counts the diff still holds.  Every writer keeps
 * reading the graph as usual and asks the diff (graph.diff, non-NULL in
 * a comparison) for the other side and the change.
 *
 * Shares.  RENDER_DIFF_SHARE (the default) divides each side by its own
 * total, so profiles of different lengths compare; a change is in points
 * (new % - base %).  RENDER_DIFF_ABSOLUTE compares sample counts; a
 * change is in samples.
 *
 * Held or changed.  A change is "held" (grey) when it is within sampling
 * noise: under DIFF_NOISE_Z standard errors of a two-proportion z-test on
 * the sample counts (share mode) or of the Poisson difference (absolute
 * mode).  Otherwise red (grew) or green (shrank), stronger with the size
 * of the change (full at DIFF_FULL_POINTS points of share).
 *
 * Order of use (main.c):
 *     graph_build(&g, ...);                 all stacks of both sides
 *     diff_build(&df, a, &g, mode);         per side; g shows NEW
 *     diff_pin_changes(&df, &g, a, opts);   the biggest changes are shown
 *     graph_prune(&g, a, opts);
 *     diff_after_prune(&df, &g, a);         shown edges per side; g's
 *                                           stack_kept keeps NEW only
 *     ... writers; a flame graph asks diff_flame_base() for each call
 *     path's base samples ...
 *
 * Ownership: everything comes from the arena; the diff points into the
 * graph and the profile, which must outlive it.
 */
#ifndef PLOP_DIFF_H
#define PLOP_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "opts.h"

struct arena;
struct flame_tree;
struct graph;

#define DIFF_NOISE_Z 3.0
#define DIFF_FULL_POINTS 20.0

/* Index of a side in the arrays below (PROFILE_SIDE_BASE / _NEW). */
#define DIFF_BASE 0
#define DIFF_NEW 1

struct diff_node {
    uint64_t self[2];
    uint64_t incl[2];
};

struct diff {
    enum render_diff_mode mode;
    uint64_t total[2];          /* samples of the kept stacks per side */
    struct diff_node *nodes;    /* [graph node id] */
    uint32_t nnodes;
    uint64_t *edge_w[2];        /* [index in graph.edges] */
    uint64_t *shown_edge_w[2];  /* [index in graph.shown_edges], after
                                 * diff_after_prune() */
    unsigned char *kept_both;   /* graph.stack_kept as built (both sides):
                                 * what --fail-if measures */
};

/*
 * Counts g's kept stacks per side into df and rewrites g to the NEW side
 * (see above); sets g->diff = df.  Cost: one pass over the frames of the
 * kept stacks, a binary search per caller/callee pair.
 */
void diff_build(struct diff *df, struct arena *a, struct graph *g,
                enum render_diff_mode mode);

/*
 * Chooses the functions that changed most to be shown whatever their
 * size: those whose self or inclusive change is at least the node
 * fraction (in points of share, as a fraction of 100) and beyond noise,
 * largest change first, at most a quarter of max_nodes (all with
 * max_nodes 0).  Stores them as g->pinned for graph_prune().
 */
void diff_pin_changes(struct diff *df, struct graph *g, struct arena *a,
                      const struct render_opts *o);

/* Counts the shown edges per side (the walk of graph_prune(), side by
 * side), sets their weights to NEW's and limits g->stack_kept to the NEW
 * side's stacks (the flame graph shows NEW's shape). */
void diff_after_prune(struct diff *df, struct graph *g, struct arena *a);

/* v samples of `side` as the diff shows it: percent of that side's total
 * (share mode) or the count itself (absolute mode). */
double diff_value(const struct diff *df, int side, uint64_t v);

/* New minus base of a pair of counts, in points or samples. */
double diff_change(const struct diff *df, uint64_t base, uint64_t now);

/* Whether (base, now) differ beyond sampling noise (see above). */
int diff_significant(const struct diff *df, uint64_t base, uint64_t now);

/*
 * The colour of a change of (base, now) samples as "#rrggbb" in out[8]:
 * grey when held, else from pale to strong red (grew) or green (shrank).
 * Dark text is readable on every result.
 */
void diff_color(const struct diff *df, uint64_t base, uint64_t now,
                char out[8]);

/* The colour of an arrow whose change is beyond noise: a strong red or
 * green (pale fills would vanish on white), "#rrggbb" in out[8]. */
void diff_line_color(const struct diff *df, uint64_t base, uint64_t now,
                     char out[8]);

/*
 * Formats a value and its change the way every picture labels them:
 * "12.1 % (+4.3)" in share mode, "1,234 (+432)" in absolute mode, into
 * buf of size n.
 */
void diff_label(const struct diff *df, uint64_t base, uint64_t now,
                char *buf, size_t n);

/*
 * The base side's samples of every frame of t, a flame tree of g's NEW
 * stacks (flametree.h, built after diff_after_prune()): for frame i, the
 * samples of the base stacks whose root-first path begins with frame i's
 * path (the root: all of them), so a differential flame graph colours
 * each call path by its own change, not by its function's.  A new arena
 * array of t->n counts.  Base paths that are not in t are not counted
 * anywhere below the last frame they share with it.  Cost: one hash
 * lookup per frame of the base stacks, each walked only as far as its
 * path is in t.
 */
uint64_t *diff_flame_base(const struct diff *df, const struct graph *g,
                          const struct flame_tree *t, struct arena *a);

/*
 * The node ids of g ordered by self change, largest increase first
 * (ties: inclusive change, then id), into a new arena array of
 * g->nnodes ids.
 */
uint32_t *diff_order_by_change(const struct diff *df, const struct graph *g,
                               struct arena *a);

#endif
