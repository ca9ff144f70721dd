/*
 * graph.c: builds the full call graph of a profile (see graph.h for the
 * counting rules).
 *
 * Work is one pass over the frames (regexes, node keys) and one pass over
 * the stacks (counts), with a "last stack" stamp per node and per edge so
 * each is counted once per stack however often it recurs.
 */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "edgetab.h"
#include "graph.h"
#include "hash.h"
#include "profile.h"

/* A node before sorting: the key, and where its frames point. */
struct tnode {
    const struct frame *key;    /* first frame seen with this key */
    long line;                  /* smallest line among counted frames */
    uint64_t self;
    uint64_t incl;
    size_t stamp;
    uint32_t final_id;
};

/*
 * Whether the line is part of a frame's node key.  In function
 * granularity a function's lines merge into one node, except for the
 * anonymous code objects a file may hold many of (<listcomp>, <lambda>,
 * <genexpr>, ...: every one has the same name): merging those would join,
 * say, the comprehensions of two different functions.  They are almost
 * always one line long, so their line tells them apart in both kinds of
 * profile (first line of the code object, or current line).  <module> is
 * one per file and merges like a named function.
 */
static int
key_has_line(const struct frame *f, enum render_granularity gran)
{
    if (gran == RENDER_GRAN_LINE) {
        return 1;
    }
    return f->func_len > 1 && f->func[0] == '<'
        && !(f->func_len == 8 && memcmp(f->func, "<module>", 8) == 0);
}

static uint32_t
key_hash(const struct frame *f, enum render_granularity gran)
{
    uint32_t h = fnv1a(FNV1A_INIT, f->file, f->file_len);
    h = fnv1a(h ^ 0xff, f->func, f->func_len);
    if (key_has_line(f, gran)) {
        h ^= (uint32_t)f->line * 2654435761u;
        h *= 16777619u;
    }
    return h;
}

static int
key_equal(const struct frame *a, const struct frame *b,
          enum render_granularity gran)
{
    if (key_has_line(a, gran) && a->line != b->line) {
        return 0;
    }
    return a->file_len == b->file_len && a->func_len == b->func_len
        && memcmp(a->file, b->file, a->file_len) == 0
        && memcmp(a->func, b->func, a->func_len) == 0;
}

static int
bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0) {
        return c;
    }
    return an < bn ? -1 : an > bn;
}

/* The node order: (file, func, line, kind), bytewise. */
static int
node_key_cmp(const struct graph_node *a, const struct graph_node *b)
{
    int c = bytes_cmp(a->file, a->file_len, b->file, b->file_len);
    if (c == 0) {
        c = bytes_cmp(a->func, a->func_len, b->func, b->func_len);
    }
    if (c == 0) {
        c = (a->line > b->line) - (a->line < b->line);
    }
    if (c == 0) {
        c = (a->kind > b->kind) - (a->kind < b->kind);
    }
    return c;
}

/* flamegraph.pl's frame annotation at the end of a file-less name: its
 * letter, with n->func_len shortened to leave it out; 0 if none. */
static char
annotation(struct graph_node *n)
{
    const char *f = n->func;
    uint32_t len = n->func_len;
    if (n->file_len != 0 || len < 5 || f[len - 4] != '_' || f[len - 3] != '['
        || f[len - 1] != ']') {
        return 0;
    }
    char k = f[len - 2];
    if (k != 'k' && k != 'j' && k != 'i' && k != 'w') {
        return 0;
    }
    n->func_len = len - 4;
    return k;
}

static int
node_ptr_cmp(const void *pa, const void *pb)
{
    return node_key_cmp(*(const struct graph_node *const *)pa,
                        *(const struct graph_node *const *)pb);
}

int
graph_edge_cmp(const void *pa, const void *pb)
{
    const struct graph_edge *a = pa, *b = pb;
    if (a->from != b->from) {
        return a->from < b->from ? -1 : 1;
    }
    return (a->to > b->to) - (a->to < b->to);
}

static int
frame_matches(const regex_t *re, const struct frame *f)
{
    return regexec(re, f->func, 0, NULL, 0) == 0
        || regexec(re, f->file, 0, NULL, 0) == 0;
}

/* Fills g->stack_kept from --focus/--ignore.  Regexes run once per frame. */
static void
select_stacks(struct graph *g, struct arena *a, const struct profile *p,
              const struct render_opts *o)
{
    g->stack_kept = arena_alloc(a, p->nstacks ? p->nstacks : 1);
    unsigned char *fmatch = NULL, *imatch = NULL;
    if (o->has_focus) {
        fmatch = arena_alloc(a, p->nframes ? p->nframes : 1);
        for (uint32_t i = 0; i < p->nframes; i++) {
            fmatch[i] = (unsigned char)frame_matches(&o->focus_re,
                                                     &p->frames[i]);
        }
    }
    if (o->has_ignore) {
        imatch = arena_alloc(a, p->nframes ? p->nframes : 1);
        for (uint32_t i = 0; i < p->nframes; i++) {
            imatch[i] = (unsigned char)frame_matches(&o->ignore_re,
                                                     &p->frames[i]);
        }
    }
    for (size_t s = 0; s < p->nstacks; s++) {
        const struct stack *st = &p->stacks[s];
        int focus_ok = fmatch == NULL, ignored = 0;
        for (uint32_t i = 0; i < st->depth; i++) {
            uint32_t f = st->frames[i];
            if (fmatch != NULL && fmatch[f]) {
                focus_ok = 1;
            }
            if (imatch != NULL && imatch[f]) {
                ignored = 1;
            }
        }
        g->stack_kept[s] = (unsigned char)(focus_ok && !ignored);
    }
}

/*
 * Whether the profile's lines are the functions' first lines (plop's
 * default: co_firstlineno), not the lines being run (lines=True, plop
 * 0.4, py-spy).  Neither format says so; the tell is the module code: a
 * module's code object starts at line 1 (0 when empty), so with first
 * lines every <module> frame is at line 0 or 1, while a running module
 * is almost never on its first line.  No <module> frame at all: unknown,
 * taken as running lines (lines merge, as before).  O(frames).
 */
static int
records_first_lines(const struct profile *p)
{
    int seen = 0;
    for (uint32_t i = 0; i < p->nframes; i++) {
        const struct frame *f = &p->frames[i];
        if (f->func_len == 8 && memcmp(f->func, "<module>", 8) == 0
            && f->file_len > 0) {
            if (f->line > 1) {
                return 0;
            }
            seen = 1;
        }
    }
    return seen;
}

/* Maps every frame to a temporary node by its key.  Returns the nodes. */
static struct tnode *
key_frames(struct arena *a, const struct profile *p,
           enum render_granularity gran, uint32_t *tid, uint32_t *ntnodes)
{
    size_t nb = 64;
    while (nb < (size_t)p->nframes * 2) {
        nb *= 2;
    }
    uint32_t *buckets = arena_calloc(a, nb, sizeof(*buckets));
    struct tnode *tn = arena_calloc(a, p->nframes ? p->nframes : 1,
                                    sizeof(*tn));
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->nframes; i++) {
        const struct frame *f = &p->frames[i];
        size_t h = key_hash(f, gran) & (nb - 1);
        for (;;) {
            uint32_t v = buckets[h];
            if (v == 0) {
                tn[n].key = f;
                tn[n].line = -1;
                buckets[h] = ++n;
                tid[i] = n - 1;
                break;
            }
            if (key_equal(tn[v - 1].key, f, gran)) {
                tid[i] = v - 1;
                break;
            }
            h = (h + 1) & (nb - 1);
        }
    }
    *ntnodes = n;
    return tn;
}

/* Counts self, inclusive (once per stack) and edges over kept stacks. */
static void
count_stacks(struct graph *g, const struct profile *p, const uint32_t *tid,
             struct tnode *tn, struct edgetab *et)
{
    for (size_t s = 0; s < p->nstacks; s++) {
        if (!g->stack_kept[s]) {
            continue;
        }
        const struct stack *st = &p->stacks[s];
        uint64_t c = st->count;
        size_t stamp = s + 1;
        g->total += c;
        g->nstacks_kept++;
        tn[tid[st->frames[0]]].self += c;
        uint32_t prev = GRAPH_NO_NODE;
        for (uint32_t i = 0; i < st->depth; i++) {
            uint32_t f = st->frames[i];
            uint32_t n = tid[f];
            struct tnode *t = &tn[n];
            if (t->line < 0 || p->frames[f].line < t->line) {
                t->line = p->frames[f].line;
            }
            if (t->stamp != stamp) {
                t->stamp = stamp;
                t->incl += c;
            }
            if (prev != GRAPH_NO_NODE) {
                struct edgetab_slot *e = edgetab_get(et, n, prev);
                if (e->stamp != stamp) {
                    e->stamp = stamp;
                    e->weight += c;
                }
            }
            prev = n;
        }
    }
}

int
graph_build(struct graph *g, struct arena *a, const struct profile *p,
            const struct render_opts *o, struct diag *d)
{
    memset(g, 0, sizeof(*g));
    g->granularity = o->granularity;
    g->prof = p;
    g->profile_total = p->total;
    select_stacks(g, a, p, o);

    uint32_t *tid = arena_alloc(a, (p->nframes ? p->nframes : 1)
                                   * sizeof(*tid));
    uint32_t ntn = 0;
    g->first_lines = records_first_lines(p);
    enum render_granularity keygran = o->granularity;
    if (g->first_lines) {
        keygran = RENDER_GRAN_LINE;
    }
    struct tnode *tn = key_frames(a, p, keygran, tid, &ntn);
    struct edgetab et;
    edgetab_init(&et, a, ntn * 2);
    count_stacks(g, p, tid, tn, &et);

    if (g->total == 0 && p->total > 0) {
        diag_set(d, DIAG_USAGE,
                 "error: no samples left after --focus and --ignore");
        return -1;
    }

    /* Nodes that occur in a counted stack, sorted by key. */
    struct graph_node *nodes = arena_calloc(a, ntn ? ntn : 1,
                                            sizeof(*nodes));
    struct graph_node **order = arena_alloc(a, (ntn ? ntn : 1)
                                               * sizeof(*order));
    uint32_t nn = 0;
    for (uint32_t i = 0; i < ntn; i++) {
        if (tn[i].incl == 0) {
            tn[i].final_id = GRAPH_NO_NODE;
            continue;
        }
        struct graph_node *n = &nodes[i];
        n->file = tn[i].key->file;
        n->file_len = tn[i].key->file_len;
        n->func = tn[i].key->func;
        n->func_len = tn[i].key->func_len;
        n->kind = annotation(n);
        n->line = tn[i].line;
        n->self = tn[i].self;
        n->incl = tn[i].incl;
        n->shown_rank = GRAPH_NO_NODE;
        if (n->self > g->max_self) {
            g->max_self = n->self;
        }
        order[nn++] = n;
    }
    qsort(order, nn, sizeof(*order), node_ptr_cmp);
    g->nodes = arena_alloc(a, (nn ? nn : 1) * sizeof(*g->nodes));
    for (uint32_t i = 0; i < nn; i++) {
        g->nodes[i] = *order[i];
        tn[order[i] - nodes].final_id = i;
    }
    g->nnodes = nn;

    g->frame_node = arena_alloc(a, (p->nframes ? p->nframes : 1)
                                   * sizeof(*g->frame_node));
    for (uint32_t i = 0; i < p->nframes; i++) {
        g->frame_node[i] = tn[tid[i]].final_id;
    }

    g->edges = arena_alloc(a, (et.nslots ? et.nslots : 1)
                              * sizeof(*g->edges));
    for (size_t i = 0; i < et.nslots; i++) {
        g->edges[i].from = tn[et.slots[i].from].final_id;
        g->edges[i].to = tn[et.slots[i].to].final_id;
        g->edges[i].weight = et.slots[i].weight;
        g->edges[i].bridged = 0;
        g->edges[i].hidden_min = 0;
        g->edges[i].hidden_max = 0;
    }
    g->nedges = et.nslots;
    qsort(g->edges, g->nedges, sizeof(*g->edges), graph_edge_cmp);
    return 0;
}

const struct graph_edge *
graph_find_edge(const struct graph *g, uint32_t from, uint32_t to)
{
    size_t lo = 0, hi = g->nedges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct graph_edge *e = &g->edges[mid];
        if (e->from < from || (e->from == from && e->to < to)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo < g->nedges && g->edges[lo].from == from
        && g->edges[lo].to == to) {
        return &g->edges[lo];
    }
    return NULL;
}
