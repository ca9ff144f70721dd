/*
 * flametree.c: merges a graph's kept stacks into the flame graph's tree
 * (see flametree.h for the contract and the size budget).
 *
 * Top-down and iterative: the stacks of a node are a contiguous range of
 * an index array; grouping the range by the next frame's graph node (a
 * direct-mapped table stamped per call, so nothing is cleared) splits it
 * into its children's ranges.  A child below `min` is never split again,
 * so the work is bounded by the frames of the paths that are shown.  An
 * explicit work stack replaces recursion: stacks may be 100,000 frames
 * deep (PROFILE_MAX_DEPTH).
 */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "flametree.h"
#include "graph.h"
#include "profile.h"

struct ft_group {
    uint32_t key;           /* graph node id of the frame */
    uint32_t count;         /* stacks in the group */
    uint64_t value;         /* their samples */
    uint32_t offset;        /* first position once ordered */
    uint32_t fill;          /* next position to fill */
};

/* A node to emit: its stacks are idx[lo..hi), its frame sits at root
 * position pos (so its depth is pos + 1). */
struct ft_work {
    uint32_t lo;
    uint32_t hi;
    uint32_t pos;
    uint32_t key;
    uint64_t value;
};

struct ft_ctx {
    struct arena *arena;
    const struct graph *g;
    const struct stack *stacks;
    uint32_t *idx;          /* kept stack ids, reordered in place */
    uint32_t *tmp;          /* scatter buffer, same size */
    uint32_t *gof;          /* group of each position of the current range */
    uint32_t *slot;         /* node id -> group index, valid if stamp says */
    uint32_t *stamp;        /* node id -> call that set slot */
    uint32_t call;
    struct ft_group *groups;
    struct ft_work *work;
    size_t nwork;
    size_t work_cap;
    size_t pushed;          /* nodes promised so far (root excluded) */
    size_t max_nodes;
    uint64_t min;
    struct flame_tree *t;
    size_t cap;
};

static inline uint32_t
frame_at(const struct ft_ctx *c, uint32_t stack, uint32_t pos)
{
    const struct stack *s = &c->stacks[stack];
    return c->g->frame_node[s->frames[s->depth - 1 - pos]];
}

static int
group_cmp(const void *pa, const void *pb)
{
    const struct ft_group *a = pa;
    const struct ft_group *b = pb;
    if (a->value != b->value) {
        return a->value > b->value ? -1 : 1;
    }
    return a->key < b->key ? -1 : a->key > b->key;
}

static void
emit(struct ft_ctx *c, uint32_t node, uint32_t depth, uint64_t value)
{
    struct flame_tree *t = c->t;
    if (t->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        t->node = arena_grow(c->arena, t->node, t->n, cap, sizeof(*t->node));
        t->depth = arena_grow(c->arena, t->depth, t->n, cap,
                              sizeof(*t->depth));
        t->value = arena_grow(c->arena, t->value, t->n, cap,
                              sizeof(*t->value));
        c->cap = cap;
    }
    t->node[t->n] = node;
    t->depth[t->n] = depth;
    t->value[t->n] = value;
    t->n++;
    if (depth > t->max_depth) {
        t->max_depth = depth;
    }
}

static void
push(struct ft_ctx *c, const struct ft_work *w)
{
    if (c->nwork == c->work_cap) {
        size_t cap = c->work_cap ? c->work_cap * 2 : 256;
        c->work = arena_grow(c->arena, c->work, c->nwork, cap,
                             sizeof(*c->work));
        c->work_cap = cap;
    }
    c->work[c->nwork++] = *w;
}

/*
 * Splits idx[lo..hi) by the frame at root position `pos` and queues the
 * groups of at least min samples, largest first.  Stacks that end before
 * `pos` are their parent's self time and are dropped from the range.
 * Returns -1 when the tree would exceed max_nodes.
 */
static int
split(struct ft_ctx *c, uint32_t lo, uint32_t hi, uint32_t pos)
{
    uint32_t ngroups = 0;
    uint32_t call = ++c->call;
    for (uint32_t i = lo; i < hi; i++) {
        uint32_t s = c->idx[i];
        if (c->stacks[s].depth <= pos) {
            c->gof[i - lo] = UINT32_MAX;
            continue;
        }
        uint32_t key = frame_at(c, s, pos);
        uint32_t gi;
        if (c->stamp[key] == call) {
            gi = c->slot[key];
        }
        else {
            gi = ngroups++;
            c->stamp[key] = call;
            c->slot[key] = gi;
            c->groups[gi].key = key;
            c->groups[gi].count = 0;
            c->groups[gi].value = 0;
        }
        c->groups[gi].count++;
        c->groups[gi].value += c->stacks[s].count;
        c->gof[i - lo] = gi;
    }
    if (ngroups == 0) {
        return 0;
    }
    qsort(c->groups, ngroups, sizeof(*c->groups), group_cmp);
    uint32_t off = lo;
    for (uint32_t k = 0; k < ngroups; k++) {
        c->slot[c->groups[k].key] = k;  /* the index moved with the sort */
        c->groups[k].offset = off;
        c->groups[k].fill = off;
        off += c->groups[k].count;
    }
    for (uint32_t i = lo; i < hi; i++) {
        if (c->gof[i - lo] != UINT32_MAX) {
            uint32_t s = c->idx[i];
            struct ft_group *gr = &c->groups[c->slot[frame_at(c, s, pos)]];
            c->tmp[gr->fill++] = s;
        }
    }
    memcpy(c->idx + lo, c->tmp + lo, (size_t)(off - lo) * sizeof(*c->idx));

    uint32_t nkept = 0;
    for (uint32_t k = 0; k < ngroups; k++) {
        if (c->groups[k].value >= c->min) {
            nkept++;
        }
        else {
            c->t->omitted += c->groups[k].value;
        }
    }
    if (c->pushed + nkept > c->max_nodes) {
        return -1;
    }
    c->pushed += nkept;
    /* Sorted by decreasing value, so the kept groups come first; queue
     * them in reverse so the largest is emitted first (preorder). */
    for (uint32_t k = nkept; k-- > 0;) {
        struct ft_work w = {c->groups[k].offset,
                            c->groups[k].offset + c->groups[k].count,
                            pos, c->groups[k].key, c->groups[k].value};
        push(c, &w);
    }
    return 0;
}

/* One attempt at c->min.  Returns -1 when over budget. */
static int
build_once(struct ft_ctx *c, uint32_t nkept)
{
    struct flame_tree *t = c->t;
    t->n = 0;
    t->max_depth = 0;
    t->omitted = 0;
    t->min = c->min;
    c->nwork = 0;
    c->pushed = 0;
    emit(c, GRAPH_NO_NODE, 0, c->g->total);
    if (split(c, 0, nkept, 0) < 0) {
        return -1;
    }
    while (c->nwork > 0) {
        struct ft_work w = c->work[--c->nwork];
        emit(c, w.key, w.pos + 1, w.value);
        if (split(c, w.lo, w.hi, w.pos + 1) < 0) {
            return -1;
        }
    }
    return 0;
}

void
flame_tree_build(struct flame_tree *t, struct arena *a,
                 const struct graph *g, uint64_t divisor, size_t max_nodes)
{
    const struct profile *p = g->prof;
    struct ft_ctx c;
    memset(&c, 0, sizeof(c));
    memset(t, 0, sizeof(*t));
    c.arena = a;
    c.g = g;
    c.stacks = p->stacks;
    c.t = t;
    c.max_nodes = max_nodes;

    size_t ns = p->nstacks ? p->nstacks : 1;
    c.idx = arena_alloc(a, ns * sizeof(*c.idx));
    c.tmp = arena_alloc(a, ns * sizeof(*c.tmp));
    c.gof = arena_alloc(a, ns * sizeof(*c.gof));
    c.groups = arena_alloc(a, ns * sizeof(*c.groups));
    size_t nn = g->nnodes ? g->nnodes : 1;
    c.slot = arena_alloc(a, nn * sizeof(*c.slot));
    c.stamp = arena_calloc(a, nn, sizeof(*c.stamp));

    uint32_t nkept = 0;
    for (size_t i = 0; i < p->nstacks; i++) {
        if (g->stack_kept[i] && p->stacks[i].depth > 0) {
            c.idx[nkept++] = (uint32_t)i;
        }
    }
    c.min = divisor ? g->total / divisor : 0;
    if (c.min < 1) {
        c.min = 1;
    }
    while (build_once(&c, nkept) < 0) {
        c.min *= 2;
    }
}
