/*
 * flametree.h: the flame graph's tree (flametree.c), shared by the HTML
 * report (html.c) and the standalone flame SVG (flame.c).
 *
 * The tree merges the kept stacks of a graph (graph.h) root first: a node
 * is a call path, keyed by the graph node of each frame, and its value is
 * the samples of the stacks that start with that path.  Nodes are stored
 * in preorder; siblings come by decreasing value, then increasing graph
 * node id, so the same profile always gives the same tree.
 *
 * Size budget: a node whose value is below `min` samples is left out with
 * its subtree (its samples are added to `omitted`).  With min =
 * total / divisor no level can hold more than `divisor` nodes, so the
 * tree is bounded by divisor * depth, not by the number of stacks; when it
 * would still exceed max_nodes, `min` is doubled until it fits.
 */
#ifndef PLOP_FLAMETREE_H
#define PLOP_FLAMETREE_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct graph;

/*
 * The HTML page keeps frames of at least 1/100000 of all samples: a pixel
 * of a 2000-pixel-wide flame graph zoomed in 50 times, so zooming into a
 * frame still shows its detail; FLAME_HTML_MAX_NODES caps the page's share
 * (under 20 bytes of JSON per frame, so 3 MB at most).
 */
#define FLAME_HTML_DIVISOR 100000
#define FLAME_HTML_MAX_NODES 150000
/* The static SVG is drawn 1180 pixels wide and cannot zoom: frames under
 * half a pixel are left out. */
#define FLAME_SVG_DIVISOR 2400
#define FLAME_SVG_MAX_NODES 50000

struct flame_tree {
    uint32_t *node;         /* graph node id; GRAPH_NO_NODE for the root */
    uint32_t *depth;        /* 0 for the root */
    uint64_t *value;        /* samples, >= min (the root: all) */
    size_t n;               /* nodes, >= 1 (the root) */
    uint32_t max_depth;
    uint64_t min;           /* nodes below this were left out, >= 1 */
    uint64_t omitted;       /* samples in left-out nodes (not nested) */
};

/*
 * Builds the tree of g's kept stacks (g->stack_kept, g->frame_node) with
 * nodes of at least max(1, total / divisor) samples, raised until the
 * tree has at most max_nodes nodes.  Everything is allocated from `a`.
 * Never fails (out of memory is fatal).  Cost: O(frames of the stacks
 * walked) per attempt: a stack is only walked as deep as its prefix stays
 * above `min`.
 */
void flame_tree_build(struct flame_tree *t, struct arena *a,
                      const struct graph *g, uint64_t divisor,
                      size_t max_nodes);

#endif
