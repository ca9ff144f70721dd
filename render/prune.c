/*
 * prune.c: chooses the nodes and edges a picture shows (see graph.h for
 * the rules in order).
 *
 * Round 1 kept pprof's default: the max_nodes largest nodes by inclusive
 * samples.  On real profiles that fills the picture with the long ladders
 * of frames every stack passes through (a JVM's or a kernel's entry
 * chain, a Python server's dispatch loop) and leaves out the leaves where
 * the time is: a 710-stack perf capture showed 33.8 % of its self samples.
 * So the selection starts from the time itself:
 *
 *   1. hot nodes: by self samples, the fewest that hold the goal share of
 *      all self samples (90 % on profiles of up to 500 nodes, 80 % above),
 *      and never fewer than the 10 largest;
 *   2. context nodes fill what is left of the budget, ranked as pprof's
 *      visual mode ranks nodes (internal/graph's entropyScore): a node
 *      whose samples fall through from one caller to one callee scores
 *      low, entries, leaves and branch points score high.  Strict
 *      pass-through nodes (no self samples, one caller, one callee, all of
 *      their samples on both edges) are never context: the edge that
 *      bridges them says how many frames it hides.
 *
 * The budget is --max-nodes when given.  By default it grows to hold the
 * hot set, bounded by what the layout will cost rather than by a count:
 * dot lays out a leaf of one caller (or a box without arrows) cheaply and
 * a box linked to others dearly (crossings, arrows spanning ranks), so
 * the default allows PRUNE_AUTO_MAX_NODES linked boxes and
 * PRUNE_AUTO_MAX_LEAVES leaves.  Which box is which shows only once the
 * edges are drawn, so graph_prune() selects, draws, and when over budget
 * leaves out the smallest hot boxes of the class that is over and tries
 * again (PRUNE_ROUNDS at most; the last falls back to round 1's bound of
 * PRUNE_AUTO_MAX_NODES boxes in all).  A quarter of the budget's base
 * stays for context, so that the hot code is shown with the callers that
 * lead to it.  Node counts never change when other nodes are dropped (a
 * node's self and inclusive come from the stacks), so each selection
 * works on the full graph.
 */
#include <math.h>
#include <stdlib.h>

#include "arena.h"
#include "edgetab.h"
#include "graph.h"
#include "profile.h"

/* Rank order of graph.shown: inclusive desc, self desc, id asc (a total
 * order).  For glibc's qsort_r; `g` is the graph. */
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

/* Hot order: self desc, then the rank order. */
static int
self_cmp(const void *pa, const void *pb, void *g)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    const struct graph_node *na = &((const struct graph *)g)->nodes[a];
    const struct graph_node *nb = &((const struct graph *)g)->nodes[b];
    if (na->self != nb->self) {
        return na->self > nb->self ? -1 : 1;
    }
    return rank_cmp(pa, pb, g);
}

/* Context order: score desc, then the rank order.  `arg` is a struct
 * score_order. */
struct score_order {
    const struct graph *g;
    const double *score;
};

static int
score_cmp(const void *pa, const void *pb, void *arg)
{
    const struct score_order *so = arg;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    if (so->score[a] != so->score[b]) {
        return so->score[a] > so->score[b] ? -1 : 1;
    }
    return rank_cmp(pa, pb, (void *)so->g);
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

/* -sum(w/total * log2(w/total)) over the weights, plus the same term for
 * `self` when it is not 0. */
static double
entropy_term(uint64_t w, uint64_t total)
{
    if (w == 0 || total == 0) {
        return 0;
    }
    double f = (double)w / (double)total;
    return -f * log2(f);
}

/*
 * pprof's entropyScore for every node, from the full graph's edges (self
 * calls left out: recursion tells nothing about falling through), and
 * marks strict pass-through nodes in `through`.  O(nodes + edges).
 */
static void
score_nodes(const struct graph *g, struct arena *a, double *score,
            unsigned char *through)
{
    uint32_t n = g->nnodes;
    uint64_t *in_total = arena_calloc(a, n ? n : 1, sizeof(*in_total));
    uint64_t *out_total = arena_calloc(a, n ? n : 1, sizeof(*out_total));
    uint32_t *nin = arena_calloc(a, n ? n : 1, sizeof(*nin));
    uint32_t *nout = arena_calloc(a, n ? n : 1, sizeof(*nout));
    double *ent_in = arena_calloc(a, n ? n : 1, sizeof(*ent_in));
    double *ent_out = arena_calloc(a, n ? n : 1, sizeof(*ent_out));
    for (size_t i = 0; i < g->nedges; i++) {
        const struct graph_edge *e = &g->edges[i];
        if (e->from == e->to) {
            continue;
        }
        out_total[e->from] += e->weight;
        nout[e->from]++;
        in_total[e->to] += e->weight;
        nin[e->to]++;
    }
    for (size_t i = 0; i < g->nedges; i++) {
        const struct graph_edge *e = &g->edges[i];
        if (e->from == e->to) {
            continue;
        }
        const struct graph_node *from = &g->nodes[e->from];
        ent_out[e->from] += entropy_term(e->weight,
                                         out_total[e->from] + from->self);
        ent_in[e->to] += entropy_term(e->weight, in_total[e->to]);
    }
    for (uint32_t i = 0; i < n; i++) {
        const struct graph_node *nd = &g->nodes[i];
        double s = 0;
        s += nin[i] == 0 ? 1 : ent_in[i];
        if (nout[i] == 0) {
            s += 1;
        } else {
            s += ent_out[i] + entropy_term(nd->self, out_total[i] + nd->self);
        }
        score[i] = s * (double)nd->incl + (double)nd->self;
        through[i] = nd->self == 0 && nin[i] == 1 && nout[i] == 1
                     && in_total[i] == nd->incl && out_total[i] == nd->incl;
    }
}

/*
 * One selection (steps 0-3 of graph.h).  `cut` (per node, or NULL) marks
 * hot nodes left out for the layout's cost: they still count towards the
 * goal, so cutting never pulls smaller nodes in, and they are not context
 * either.  The hot nodes shown are left in hot[0..*nhot_out), by self
 * desc.
 */
static void
select_nodes(struct graph *g, struct arena *a, const struct render_opts *o,
             const unsigned char *cut, uint32_t **hot_out,
             uint32_t *nhot_out)
{
    uint32_t n = g->nnodes;
    g->node_cutoff = cutoff(o->node_fraction, g->total);
    uint32_t *ids = arena_alloc(a, (n ? n : 1) * sizeof(*ids));
    unsigned char *picked = arena_calloc(a, n ? n : 1, 1);
    uint32_t *shown = arena_alloc(a, (n ? n : 1) * sizeof(*shown));
    uint32_t ns = 0;
    for (uint32_t i = 0; i < n; i++) {
        ids[i] = i;
        g->nodes[i].shown_rank = GRAPH_NO_NODE;
    }

    /* 0. Pinned nodes. */
    uint64_t got = 0;
    for (uint32_t k = 0; k < g->npinned; k++) {
        uint32_t i = g->pinned[k];
        if (!picked[i]) {
            picked[i] = 1;
            shown[ns++] = i;
            got += g->nodes[i].self;
        }
    }
    uint32_t npin = ns;

    /* 1. Hot nodes, in self order after the pinned ones. */
    double goal = n <= PRUNE_SMALL_PROFILE ? PRUNE_GOAL_SMALL
                                            : PRUNE_GOAL_LARGE;
    uint64_t self_total = 0;
    for (uint32_t i = 0; i < n; i++) {
        self_total += g->nodes[i].self;
    }
    uint64_t want = (uint64_t)ceil(goal * (double)self_total);
    qsort_r(ids, n, sizeof(*ids), self_cmp, g);
    uint32_t nhot = 0;
    for (uint32_t r = 0; r < n && g->nodes[ids[r]].self > 0
                         && (got < want || r < PRUNE_TOP_SELF); r++) {
        if (!picked[ids[r]]) {
            got += g->nodes[ids[r]].self;
            if (cut != NULL && cut[ids[r]]) {
                picked[ids[r]] = 1;
                continue;
            }
            ids[nhot++] = ids[r];
        }
    }

    /* 2. The budget, with a quarter of its base kept for context when
     * hot nodes would crowd out every caller.  By default it grows to
     * hold every hot node: graph_prune() then weighs the layout's cost. */
    uint32_t base = o->max_nodes > 0 ? (uint32_t)o->max_nodes : n;
    uint32_t reserve = base / 4;
    uint32_t budget = base;
    if (!o->max_nodes_given && npin + nhot + reserve > budget) {
        budget = npin + nhot + reserve;
    }
    if (budget < npin) {
        budget = npin;
    }
    uint32_t room = budget - npin > reserve ? budget - npin - reserve : 0;
    if (nhot > room) {
        nhot = room;
    }
    uint32_t *hot = arena_alloc(a, (nhot ? nhot : 1) * sizeof(*hot));
    for (uint32_t r = 0; r < nhot; r++) {
        picked[ids[r]] = 1;
        shown[ns++] = ids[r];
        hot[r] = ids[r];
    }
    g->hot_goal = goal;
    g->nhot = nhot;
    *hot_out = hot;
    *nhot_out = nhot;

    /* 3. Context nodes. */
    if (ns < budget) {
        double *score = arena_alloc(a, (n ? n : 1) * sizeof(*score));
        unsigned char *through = arena_alloc(a, n ? n : 1);
        score_nodes(g, a, score, through);
        int keep_through = o->max_nodes_given && o->max_nodes == 0;
        uint32_t nc = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (!picked[i] && (cut == NULL || !cut[i])
                && g->nodes[i].incl >= g->node_cutoff
                && (keep_through || !through[i])) {
                ids[nc++] = i;
            }
        }
        struct score_order so = {g, score};
        qsort_r(ids, nc, sizeof(*ids), score_cmp, &so);
        for (uint32_t r = 0; r < nc && ns < budget; r++) {
            shown[ns++] = ids[r];
        }
    }

    qsort_r(shown, ns, sizeof(*shown), rank_cmp, g);
    g->shown = shown;
    g->nshown = ns;
    g->shown_self = 0;
    g->hidden_max_self = 0;
    for (uint32_t r = 0; r < ns; r++) {
        g->nodes[shown[r]].shown_rank = r;
        g->shown_self += g->nodes[shown[r]].self;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (g->nodes[i].shown_rank == GRAPH_NO_NODE
            && g->nodes[i].self > g->hidden_max_self) {
            g->hidden_max_self = g->nodes[i].self;
        }
    }
    g->dropped_nodes = n - ns;
}

/*
 * Step 3: the edges between shown nodes, skipping pruned frames.  A
 * slot's `direct` says some stack had the pair adjacent; hidden_min and
 * hidden_max (kept in `hid`, by slot index) count the frames skipped
 * between them where they were not.
 */
struct hidden_range {
    uint32_t min;
    uint32_t max;
};

static struct hidden_range *
walk_edges(struct graph *g, struct arena *a, struct edgetab *et)
{
    const struct profile *p = g->prof;
    size_t cap = 256;
    struct hidden_range *hid = arena_alloc(a, cap * sizeof(*hid));
    for (size_t s = 0; s < p->nstacks; s++) {
        if (!g->stack_kept[s]) {
            continue;
        }
        const struct stack *st = &p->stacks[s];
        size_t stamp = s + 1;
        uint32_t prev = GRAPH_NO_NODE;
        uint32_t skipped = 0;
        for (uint32_t i = 0; i < st->depth; i++) {
            uint32_t n = g->frame_node[st->frames[i]];
            if (g->nodes[n].shown_rank == GRAPH_NO_NODE) {
                skipped++;
                continue;
            }
            if (prev != GRAPH_NO_NODE) {
                size_t before = et->nslots;
                struct edgetab_slot *e = edgetab_get(et, n, prev);
                size_t ix = (size_t)(e - et->slots);
                if (ix >= cap) {
                    size_t nc = cap;
                    while (nc <= ix) {
                        nc *= 2;
                    }
                    hid = arena_grow(a, hid, cap, nc, sizeof(*hid));
                    cap = nc;
                }
                if (et->nslots > before) {
                    hid[ix].min = UINT32_MAX;
                    hid[ix].max = 0;
                }
                if (skipped == 0) {
                    e->direct = 1;
                } else {
                    if (skipped < hid[ix].min) {
                        hid[ix].min = skipped;
                    }
                    if (skipped > hid[ix].max) {
                        hid[ix].max = skipped;
                    }
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
    return hid;
}

/* Steps 4 and 5: the shown edges of the current selection. */
static void
draw_edges(struct graph *g, struct arena *a, const struct render_opts *o)
{
    struct edgetab et;
    edgetab_init(&et, a, (size_t)g->nshown * 4);
    struct hidden_range *hid = walk_edges(g, a, &et);

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
        e->hidden_min = e->bridged ? hid[i].min : 0;
        e->hidden_max = e->bridged ? hid[i].max : 0;
    }
    qsort(g->shown_edges, g->nshown_edges, sizeof(*g->shown_edges),
          graph_edge_cmp);
}

/*
 * The layout's cost, from what dot is given: a box drawn as a leaf of one
 * caller (one arrow in, none out) or with no arrow at all costs dot
 * little (gv.c lays such boxes out in rows and columns), every other box
 * much more (crossings to minimise, arrows that span ranks).  Measured
 * with `plop-render --stats` on this machine: 1,683 handlers of one
 * dispatcher lay out in 0.4 s, while 237 functions of a random call
 * graph with 594 calls take 2.0 s (README, "Node selection").
 *
 * Returns 1 when the shown graph is within the default budget:
 * PRUNE_AUTO_MAX_NODES linked boxes and PRUNE_AUTO_MAX_LEAVES leaves.
 * Otherwise marks in `cut` the hot nodes to leave out next round, the
 * smallest by self first, never the PRUNE_TOP_SELF largest, and returns
 * 0.  On the last round (`last`) it cuts down to PRUNE_AUTO_MAX_NODES
 * boxes in all, round 1's bound (pinned, context and the top self nodes
 * are not cut).  O(nodes + edges).
 */
static int
within_budget(const struct graph *g, struct arena *a, unsigned char *cut,
              const uint32_t *hot, uint32_t nhot, int last)
{
    uint32_t n = g->nnodes;
    uint32_t *nin = arena_calloc(a, n ? n : 1, sizeof(*nin));
    uint32_t *nout = arena_calloc(a, n ? n : 1, sizeof(*nout));
    for (size_t i = 0; i < g->nshown_edges; i++) {
        const struct graph_edge *e = &g->shown_edges[i];
        if (e->from != e->to) {
            nout[e->from]++;
            nin[e->to]++;
        }
    }
    uint32_t linked = 0;
    for (uint32_t r = 0; r < g->nshown; r++) {
        uint32_t id = g->shown[r];
        linked += !(nin[id] <= 1 && nout[id] == 0);
    }
    uint32_t leaves = g->nshown - linked;
    if (linked <= PRUNE_AUTO_MAX_NODES && leaves <= PRUNE_AUTO_MAX_LEAVES) {
        return 1;
    }
    uint32_t over_linked = linked > PRUNE_AUTO_MAX_NODES
                           ? linked - PRUNE_AUTO_MAX_NODES : 0;
    uint32_t over_leaves = leaves > PRUNE_AUTO_MAX_LEAVES
                           ? leaves - PRUNE_AUTO_MAX_LEAVES : 0;
    uint32_t over_all = last && g->nshown > PRUNE_AUTO_MAX_NODES
                        ? g->nshown - PRUNE_AUTO_MAX_NODES : 0;
    for (uint32_t r = nhot; r > PRUNE_TOP_SELF; r--) {
        uint32_t id = hot[r - 1];
        int is_leaf = nin[id] <= 1 && nout[id] == 0;
        uint32_t *over = is_leaf ? &over_leaves : &over_linked;
        if (*over > 0 || over_all > 0) {
            cut[id] = 1;
            *over -= *over > 0;
            over_all -= over_all > 0;
        }
    }
    return 0;
}

/*
 * Step 7: when the layout's budget left hot nodes out, the picture would
 * lose their time without a trace.  Each sample whose running function is
 * hidden is charged to the nearest shown frame above it, and one box per
 * such caller says how many hidden functions ran there, how many samples
 * they hold and the most any one of them holds in all: the time is drawn
 * where it is, and the bound says that no function worth a box of its own
 * is inside (the hidden hot ones are the smallest hot ones).  Tails below
 * the node cutoff are not drawn (their samples stay in the header's
 * hidden share).  O(total frames) for the walk, O(nodes) for the rest.
 */
static void
gather_tails(struct graph *g, struct arena *a)
{
    const struct profile *p = g->prof;
    uint32_t n = g->nnodes;
    struct edgetab et;
    edgetab_init(&et, a, 1024);
    for (size_t s = 0; s < p->nstacks; s++) {
        if (!g->stack_kept[s]) {
            continue;
        }
        const struct stack *st = &p->stacks[s];
        uint32_t leaf = g->frame_node[st->frames[0]];
        if (g->nodes[leaf].shown_rank != GRAPH_NO_NODE) {
            continue;
        }
        for (uint32_t i = 1; i < st->depth; i++) {
            uint32_t up = g->frame_node[st->frames[i]];
            if (g->nodes[up].shown_rank != GRAPH_NO_NODE) {
                edgetab_get(&et, up, leaf)->weight += st->count;
                break;
            }
        }
    }
    uint64_t *self = arena_calloc(a, n ? n : 1, sizeof(*self));
    uint64_t *max = arena_calloc(a, n ? n : 1, sizeof(*max));
    uint32_t *nf = arena_calloc(a, n ? n : 1, sizeof(*nf));
    for (size_t i = 0; i < et.nslots; i++) {
        const struct edgetab_slot *sl = &et.slots[i];
        self[sl->from] += sl->weight;
        nf[sl->from]++;
        if (g->nodes[sl->to].self > max[sl->from]) {
            max[sl->from] = g->nodes[sl->to].self;
        }
    }
    uint64_t min = g->node_cutoff > 0 ? g->node_cutoff : 1;
    g->tails = arena_alloc(a, (g->nshown ? g->nshown : 1)
                              * sizeof(*g->tails));
    g->ntails = 0;
    g->tail_self = 0;
    for (uint32_t r = 0; r < g->nshown; r++) {
        uint32_t id = g->shown[r];
        if (nf[id] == 0 || self[id] < min) {
            continue;
        }
        struct graph_tail *t = &g->tails[g->ntails++];
        t->caller = id;
        t->nfuncs = nf[id];
        t->self = self[id];
        t->max_self = max[id];
        g->tail_self += self[id];
    }
}

void
graph_prune(struct graph *g, struct arena *a, const struct render_opts *o)
{
    unsigned char *cut = NULL;
    g->tails = NULL;
    g->ntails = 0;
    g->tail_self = 0;
    for (int round = 0;; round++) {
        uint32_t *hot, nhot;
        select_nodes(g, a, o, cut, &hot, &nhot);
        draw_edges(g, a, o);
        if (o->max_nodes_given || round == PRUNE_ROUNDS) {
            break;
        }
        if (cut == NULL) {
            cut = arena_calloc(a, g->nnodes ? g->nnodes : 1, 1);
        }
        if (within_budget(g, a, cut, hot, nhot, round + 1 == PRUNE_ROUNDS)) {
            break;
        }
    }
    int any_cut = 0;
    for (uint32_t i = 0; cut != NULL && i < g->nnodes && !any_cut; i++) {
        any_cut = cut[i] && g->nodes[i].shown_rank == GRAPH_NO_NODE;
    }
    if (any_cut && g->diff == NULL) {
        gather_tails(g, a);
    }
}
