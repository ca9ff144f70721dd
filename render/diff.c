/*
 * diff.c: the comparison of two sides of one profile (see diff.h): per
 * side counts of nodes and edges with graph.h's once-per-sample rules,
 * the NEW side written into the graph, the choice of changed functions
 * that must be shown, and the colours and labels of a change.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diff.h"
#include "flametree.h"
#include "graph.h"
#include "present.h"
#include "profile.h"

/* The index of edge (from, to) in a sorted edge array, or -1. */
static ptrdiff_t
find_edge(const struct graph_edge *e, size_t n, uint32_t from, uint32_t to)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e[mid].from < from || (e[mid].from == from && e[mid].to < to)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo < n && e[lo].from == from && e[lo].to == to) {
        return (ptrdiff_t)lo;
    }
    return -1;
}

void
diff_build(struct diff *df, struct arena *a, struct graph *g,
           enum render_diff_mode mode)
{
    const struct profile *p = g->prof;
    memset(df, 0, sizeof(*df));
    df->mode = mode;
    df->nnodes = g->nnodes;
    df->nodes = arena_calloc(a, g->nnodes ? g->nnodes : 1,
                             sizeof(*df->nodes));
    for (int s = 0; s < 2; s++) {
        df->edge_w[s] = arena_calloc(a, g->nedges ? g->nedges : 1,
                                     sizeof(uint64_t));
    }
    df->kept_both = arena_alloc(a, p->nstacks ? p->nstacks : 1);
    memcpy(df->kept_both, g->stack_kept, p->nstacks);

    size_t *nstamp = arena_calloc(a, g->nnodes ? g->nnodes : 1,
                                  sizeof(size_t));
    size_t *estamp = arena_calloc(a, g->nedges ? g->nedges : 1,
                                  sizeof(size_t));
    size_t new_stacks = 0;
    for (size_t s = 0; s < p->nstacks; s++) {
        if (!g->stack_kept[s]) {
            continue;
        }
        const struct stack *st = &p->stacks[s];
        int side = st->side == PROFILE_SIDE_BASE ? DIFF_BASE : DIFF_NEW;
        uint64_t c = st->count;
        size_t stamp = s + 1;
        df->total[side] += c;
        new_stacks += side == DIFF_NEW;
        df->nodes[g->frame_node[st->frames[0]]].self[side] += c;
        uint32_t prev = GRAPH_NO_NODE;
        for (uint32_t i = 0; i < st->depth; i++) {
            uint32_t n = g->frame_node[st->frames[i]];
            if (nstamp[n] != stamp) {
                nstamp[n] = stamp;
                df->nodes[n].incl[side] += c;
            }
            if (prev != GRAPH_NO_NODE) {
                ptrdiff_t e = find_edge(g->edges, g->nedges, n, prev);
                if (e >= 0 && estamp[e] != stamp) {
                    estamp[e] = stamp;
                    df->edge_w[side][e] += c;
                }
            }
            prev = n;
        }
    }

    g->max_self = 0;
    for (uint32_t i = 0; i < g->nnodes; i++) {
        g->nodes[i].self = df->nodes[i].self[DIFF_NEW];
        g->nodes[i].incl = df->nodes[i].incl[DIFF_NEW];
        if (g->nodes[i].self > g->max_self) {
            g->max_self = g->nodes[i].self;
        }
    }
    for (size_t e = 0; e < g->nedges; e++) {
        g->edges[e].weight = df->edge_w[DIFF_NEW][e];
    }
    g->total = df->total[DIFF_NEW];
    g->profile_total = p->side_total[PROFILE_SIDE_NEW];
    g->nstacks_kept = new_stacks;
    g->diff = df;
}

/* The size of a node's change used to pick what must be shown: the
 * larger of its self and inclusive changes, as a share (0..1). */
static double
change_size(const struct diff *df, uint32_t id)
{
    const struct diff_node *n = &df->nodes[id];
    double s = fabs(diff_change(df, n->self[DIFF_BASE], n->self[DIFF_NEW]));
    double i = fabs(diff_change(df, n->incl[DIFF_BASE], n->incl[DIFF_NEW]));
    double v = s > i ? s : i;
    if (df->mode == RENDER_DIFF_ABSOLUTE) {
        uint64_t t = df->total[DIFF_NEW] > df->total[DIFF_BASE]
                         ? df->total[DIFF_NEW] : df->total[DIFF_BASE];
        return t ? v / (double)t : 0;
    }
    return v / 100.0;
}

static int
node_significant(const struct diff *df, uint32_t id)
{
    const struct diff_node *n = &df->nodes[id];
    return diff_significant(df, n->self[DIFF_BASE], n->self[DIFF_NEW])
        || diff_significant(df, n->incl[DIFF_BASE], n->incl[DIFF_NEW]);
}

struct pin_cand {
    double size;
    uint32_t id;
};

static int
pin_cmp(const void *pa, const void *pb)
{
    const struct pin_cand *a = pa, *b = pb;
    if (a->size != b->size) {
        return a->size > b->size ? -1 : 1;
    }
    return (a->id > b->id) - (a->id < b->id);
}

void
diff_pin_changes(struct diff *df, struct graph *g, struct arena *a,
                 const struct render_opts *o)
{
    struct pin_cand *c = arena_alloc(a, (g->nnodes ? g->nnodes : 1)
                                        * sizeof(*c));
    uint32_t n = 0;
    double min = o->node_fraction > 0 ? o->node_fraction : 0;
    for (uint32_t i = 0; i < g->nnodes; i++) {
        double size = change_size(df, i);
        if (size > 0 && size >= min && node_significant(df, i)) {
            c[n].size = size;
            c[n].id = i;
            n++;
        }
    }
    qsort(c, n, sizeof(*c), pin_cmp);
    uint32_t cap = o->max_nodes > 0 ? (uint32_t)(o->max_nodes + 3) / 4 : n;
    if (n > cap) {
        n = cap;
    }
    uint32_t *pins = arena_alloc(a, (n ? n : 1) * sizeof(*pins));
    for (uint32_t i = 0; i < n; i++) {
        pins[i] = c[i].id;
    }
    g->pinned = pins;
    g->npinned = n;
}

void
diff_after_prune(struct diff *df, struct graph *g, struct arena *a)
{
    const struct profile *p = g->prof;
    size_t ne = g->nshown_edges;
    for (int s = 0; s < 2; s++) {
        df->shown_edge_w[s] = arena_calloc(a, ne ? ne : 1, sizeof(uint64_t));
    }
    size_t *estamp = arena_calloc(a, ne ? ne : 1, sizeof(size_t));
    for (size_t s = 0; s < p->nstacks; s++) {
        if (!g->stack_kept[s]) {
            continue;
        }
        const struct stack *st = &p->stacks[s];
        int side = st->side == PROFILE_SIDE_BASE ? DIFF_BASE : DIFF_NEW;
        size_t stamp = s + 1;
        uint32_t prev = GRAPH_NO_NODE;
        for (uint32_t i = 0; i < st->depth; i++) {
            uint32_t n = g->frame_node[st->frames[i]];
            if (g->nodes[n].shown_rank == GRAPH_NO_NODE) {
                continue;
            }
            if (prev != GRAPH_NO_NODE) {
                ptrdiff_t e = find_edge(g->shown_edges, ne, n, prev);
                if (e >= 0 && estamp[e] != stamp) {
                    estamp[e] = stamp;
                    df->shown_edge_w[side][e] += st->count;
                }
            }
            prev = n;
        }
        if (side == DIFF_BASE) {
            g->stack_kept[s] = 0;
        }
    }
    for (size_t e = 0; e < ne; e++) {
        g->shown_edges[e].weight = df->shown_edge_w[DIFF_NEW][e];
    }
}

double
diff_value(const struct diff *df, int side, uint64_t v)
{
    if (df->mode == RENDER_DIFF_ABSOLUTE) {
        return (double)v;
    }
    return df->total[side] ? 100.0 * (double)v / (double)df->total[side]
                           : 0.0;
}

double
diff_change(const struct diff *df, uint64_t base, uint64_t now)
{
    return diff_value(df, DIFF_NEW, now) - diff_value(df, DIFF_BASE, base);
}

int
diff_significant(const struct diff *df, uint64_t base, uint64_t now)
{
    if (base == now && (df->mode == RENDER_DIFF_ABSOLUTE
                        || df->total[0] == df->total[1])) {
        return 0;
    }
    double z;
    if (df->mode == RENDER_DIFF_ABSOLUTE) {
        z = fabs((double)now - (double)base) / sqrt((double)now + (double)base);
    } else {
        double tb = (double)df->total[DIFF_BASE];
        double tn = (double)df->total[DIFF_NEW];
        if (tb == 0 || tn == 0) {
            return base != 0 || now != 0;
        }
        double pb = (double)base / tb, pn = (double)now / tn;
        double pool = ((double)base + (double)now) / (tb + tn);
        double se = sqrt(pool * (1 - pool) * (1 / tb + 1 / tn));
        if (se == 0) {
            return pb != pn;
        }
        z = fabs(pn - pb) / se;
    }
    return z >= DIFF_NOISE_Z;
}

void
diff_color(const struct diff *df, uint64_t base, uint64_t now, char out[8])
{
    if (!diff_significant(df, base, now)) {
        snprintf(out, 8, "#e4e4e4");
        return;
    }
    double ch = diff_change(df, base, now);
    double pts = ch;
    if (df->mode == RENDER_DIFF_ABSOLUTE) {
        uint64_t t = df->total[DIFF_NEW] > df->total[DIFF_BASE]
                         ? df->total[DIFF_NEW] : df->total[DIFF_BASE];
        pts = t ? 100.0 * ch / (double)t : 0;
    }
    double t = 0.25 + 0.75 * fmin(1.0, fabs(pts) / DIFF_FULL_POINTS);
    /* From a pale tint (t = 0) to red (238,82,72) or green (76,175,80);
     * both ends keep dark text readable. */
    double r0 = 250, g0 = 236, b0 = 232;
    double r1 = 238, g1 = 82, b1 = 72;
    if (ch < 0) {
        r0 = 232; g0 = 246; b0 = 232;
        r1 = 92; g1 = 184; b1 = 92;
    }
    snprintf(out, 8, "#%02x%02x%02x", (unsigned)lround(r0 + (r1 - r0) * t),
             (unsigned)lround(g0 + (g1 - g0) * t),
             (unsigned)lround(b0 + (b1 - b0) * t));
}

void
diff_line_color(const struct diff *df, uint64_t base, uint64_t now,
                char out[8])
{
    snprintf(out, 8, "%s", diff_change(df, base, now) > 0 ? "#d0342c"
                                                           : "#2e8b3e");
}

void
diff_label(const struct diff *df, uint64_t base, uint64_t now, char *buf,
           size_t n)
{
    double ch = diff_change(df, base, now);
    if (df->mode == RENDER_DIFF_ABSOLUTE) {
        char a[32], b[32];
        uint64_t mag = now > base ? now - base : base - now;
        present_count(now, a);
        present_count(mag, b);
        snprintf(buf, n, "%s (%s%s)", a, now >= base ? "+" : "-", b);
        return;
    }
    /* Round first so that no label says "(-0.0)". */
    double r = round(ch * 10) / 10;
    snprintf(buf, n, "%.1f %% (%s%.1f)", diff_value(df, DIFF_NEW, now),
             r >= 0 ? "+" : "-", fabs(r));
}

/* The key of a flame frame among its siblings: its parent frame and its
 * graph node. */
static inline size_t
frame_slot(size_t parent, uint32_t node, size_t mask)
{
    uint64_t k = ((uint64_t)parent << 32) ^ node;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & mask;
}

uint64_t *
diff_flame_base(const struct diff *df, const struct graph *g,
                const struct flame_tree *t, struct arena *a)
{
    uint64_t *base = arena_calloc(a, t->n ? t->n : 1, sizeof(*base));
    if (t->n == 0) {
        return base;
    }
    /* Parents from the preorder depths, then (parent, node) -> frame. */
    size_t *parent = arena_alloc(a, t->n * sizeof(*parent));
    size_t *last = arena_alloc(a, ((size_t)t->max_depth + 1)
                                  * sizeof(*last));
    size_t nb = 64;
    while (nb < 2 * t->n) {
        nb *= 2;
    }
    size_t *tab = arena_calloc(a, nb, sizeof(*tab));    /* frame + 1 */
    for (size_t i = 0; i < t->n; i++) {
        uint32_t dp = t->depth[i];
        last[dp] = i;
        if (dp == 0) {
            parent[i] = SIZE_MAX;
            continue;
        }
        parent[i] = last[dp - 1];
        size_t h = frame_slot(parent[i], t->node[i], nb - 1);
        while (tab[h] != 0) {
            h = (h + 1) & (nb - 1);
        }
        tab[h] = i + 1;
    }
    const struct profile *p = g->prof;
    base[0] = df->total[DIFF_BASE];
    for (size_t s = 0; s < p->nstacks; s++) {
        const struct stack *st = &p->stacks[s];
        if (!df->kept_both[s] || st->side != PROFILE_SIDE_BASE) {
            continue;
        }
        size_t cur = 0;
        for (uint32_t k = st->depth; k-- > 0;) {
            uint32_t node = g->frame_node[st->frames[k]];
            size_t h = frame_slot(cur, node, nb - 1), found = SIZE_MAX;
            while (tab[h] != 0) {
                size_t f = tab[h] - 1;
                if (parent[f] == cur && t->node[f] == node) {
                    found = f;
                    break;
                }
                h = (h + 1) & (nb - 1);
            }
            if (found == SIZE_MAX) {
                break;
            }
            base[found] += st->count;
            cur = found;
        }
    }
    return base;
}

/* Self change descending, then inclusive change, then id.  For glibc's
 * qsort_r; `arg` is the diff. */
static int
change_cmp(const void *pa, const void *pb, void *arg)
{
    const struct diff *order_df = arg;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    const struct diff_node *na = &order_df->nodes[a];
    const struct diff_node *nb = &order_df->nodes[b];
    double ca = diff_change(order_df, na->self[0], na->self[1]);
    double cb = diff_change(order_df, nb->self[0], nb->self[1]);
    if (ca != cb) {
        return ca > cb ? -1 : 1;
    }
    ca = diff_change(order_df, na->incl[0], na->incl[1]);
    cb = diff_change(order_df, nb->incl[0], nb->incl[1]);
    if (ca != cb) {
        return ca > cb ? -1 : 1;
    }
    return (a > b) - (a < b);
}

uint32_t *
diff_order_by_change(const struct diff *df, const struct graph *g,
                     struct arena *a)
{
    uint32_t *ids = arena_alloc(a, (g->nnodes ? g->nnodes : 1)
                                   * sizeof(*ids));
    for (uint32_t i = 0; i < g->nnodes; i++) {
        ids[i] = i;
    }
    qsort_r(ids, g->nnodes, sizeof(*ids), change_cmp, (void *)df);
    return ids;
}
