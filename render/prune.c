/*
 * prune.c: chooses the nodes and edges a picture shows, in pprof's order
 * (internal/driver + internal/graph): node fraction, then the top
 * max_nodes, then the edges between what is left, walking the stacks
 * again so that a kept caller reaching a kept callee only through pruned
 * frames gets a dotted "bridged" edge, then the edge fraction.
 *
 * pprof rebuilds the whole graph between the node-fraction and the top-N
 * steps; here node counts do not change when other nodes are dropped
 * (a node's self and inclusive come from the stacks, not the edges), so
 * one selection over the full graph gives the same nodes.
 */
#include <math.h>
#include <stdlib.h>

#include "arena.h"
#include "edgetab.h"
#include "graph.h"
#include "profile.h"

/* Rank order: inclusive desc, self desc, id asc (a total order).
 * For glibc's qsort_r; `g` is the graph. */
static int
rank_cmp(const void *pa, const void *pb, void *g)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    const struct graph_node *na = &((const struct graph *)g)->nodes[a];
    const struct graph_node *nb = &((const struct graph *)g)->nodes[b];
    if (na->incl != nb->incl) {
        return na->incl > nb->incl ? -1 : 1;
    }
    if (na->self != nb->self) {
        return na->self > nb->self ? -1 : 1;
    }
    return (a > b) - (a < b);
}

/* ceil(fraction * total), 0 for fraction <= 0. */
static uint64_t
cutoff(double fraction, uint64_t total)
{
    if (!(fraction > 0)) {
        return 0;
    }
    double c = ceil(fraction * (double)total);
    return c >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)c;
}

static void
select_nodes(struct graph *g, struct arena *a, const struct render_opts *o)
{
    g->node_cutoff = cutoff(o->node_fraction, g->total);
    uint32_t *cand = arena_alloc(a, (g->nnodes ? g->nnodes : 1)
                                    * sizeof(*cand));
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->nnodes; i++) {
        g->nodes[i].shown_rank = GRAPH_NO_NODE;
    }
    /* Pinned nodes first (shown_rank marks them for now). */
    for (uint32_t k = 0; k < g->npinned; k++) {
        uint32_t i = g->pinned[k];
        if (g->nodes[i].shown_rank == GRAPH_NO_NODE) {
            g->nodes[i].shown_rank = 0;
            cand[n++] = i;
        }
    }
    uint32_t npin = n;
    for (uint32_t i = 0; i < g->nnodes; i++) {
        if (g->nodes[i].incl >= g->node_cutoff
            && g->nodes[i].shown_rank == GRAPH_NO_NODE) {
            cand[n++] = i;
        }
    }
    qsort_r(cand + npin, n - npin, sizeof(*cand), rank_cmp, g);
    if (o->max_nodes > 0 && n > (uint32_t)o->max_nodes) {
        n = npin > (uint32_t)o->max_nodes ? npin : (uint32_t)o->max_nodes;
    }
    qsort_r(cand, n, sizeof(*cand), rank_cmp, g);
    g->shown = cand;
    g->nshown = n;
    g->shown_self = 0;
    for (uint32_t r = 0; r < n; r++) {
        g->nodes[cand[r]].shown_rank = r;
        g->shown_self += g->nodes[cand[r]].self;
    }
    g->dropped_nodes = g->nnodes - n;
}

/* Step 3: the edges between shown nodes, skipping pruned frames. */
static void
walk_edges(struct graph *g, struct arena *a, struct edgetab *et)
{
    const struct profile *p = g->prof;
    for (size_t s = 0; s < p->nstacks; s++) {
        if (!g->stack_kept[s]) {
            continue;
        }
        const struct stack *st = &p->stacks[s];
        size_t stamp = s + 1;
        uint32_t prev = GRAPH_NO_NODE;
        int skipped = 0;
        for (uint32_t i = 0; i < st->depth; i++) {
            uint32_t n = g->frame_node[st->frames[i]];
            if (g->nodes[n].shown_rank == GRAPH_NO_NODE) {
                skipped = 1;
                continue;
            }
            if (prev != GRAPH_NO_NODE) {
                struct edgetab_slot *e = edgetab_get(et, n, prev);
                if (!skipped) {
                    e->direct = 1;
                }
                if (e->stamp != stamp) {
                    e->stamp = stamp;
                    e->weight += st->count;
                }
            }
            prev = n;
            skipped = 0;
        }
    }
}

void
graph_prune(struct graph *g, struct arena *a, const struct render_opts *o)
{
    select_nodes(g, a, o);

    struct edgetab et;
    edgetab_init(&et, a, (size_t)g->nshown * 4);
    walk_edges(g, a, &et);

    g->edge_cutoff = cutoff(o->edge_fraction, g->total);
    g->shown_edges = arena_alloc(a, (et.nslots ? et.nslots : 1)
                                    * sizeof(*g->shown_edges));
    g->nshown_edges = 0;
    g->dropped_edges = 0;
    for (size_t i = 0; i < et.nslots; i++) {
        const struct edgetab_slot *s = &et.slots[i];
        if (s->weight < g->edge_cutoff) {
            g->dropped_edges++;
            continue;
        }
        struct graph_edge *e = &g->shown_edges[g->nshown_edges++];
        e->from = s->from;
        e->to = s->to;
        e->weight = s->weight;
        e->bridged = !s->direct;
    }
    qsort(g->shown_edges, g->nshown_edges, sizeof(*g->shown_edges),
          graph_edge_cmp);
}
