/*
 * speedscope.c: a plop profile as a speedscope JSON file (see
 * speedscope.h; schema https://www.speedscope.app/file-format-schema.json).
 * Frames are the graph's nodes, so speedscope's views merge lines the
 * way the plop graph does (--granularity).
 */
#include <string.h>

#include "arena.h"
#include "graph.h"
#include "load.h"
#include "profile.h"
#include "speedscope.h"
#include "strbuf.h"

static void
add_json_str(struct strbuf *out, const char *s, size_t n)
{
    strbuf_addch(out, '"');
    strbuf_add_json(out, s, n);
    strbuf_addch(out, '"');
}

/* The last path component of a name, for profile names. */
static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

int
speedscope_write(struct strbuf *out, const struct graph *g,
                 const struct speedscope_meta *m, struct diag *d)
{
    struct arena *a = out->arena;
    const struct profile *prof = g->prof;

    /* frame index + 1 of each node, 0 for nodes no kept stack reaches */
    uint32_t *index = arena_calloc(a, g->nnodes + 1, sizeof(*index));
    for (size_t i = 0; i < prof->nstacks; i++) {
        if (g->stack_kept[i]) {
            const struct stack *s = &prof->stacks[i];
            for (uint32_t k = 0; k < s->depth; k++) {
                index[g->frame_node[s->frames[k]]] = 1;
            }
        }
    }

    strbuf_addstr(out, "{\"$schema\":\"https://www.speedscope.app/"
                  "file-format-schema.json\",\n\"shared\":{\"frames\":[");
    uint32_t nframes = 0;
    for (uint32_t n = 0; n < g->nnodes; n++) {
        if (!index[n]) {
            continue;
        }
        index[n] = ++nframes;
        const struct graph_node *node = &g->nodes[n];
        strbuf_addstr(out, nframes > 1 ? ",\n{\"name\":" : "\n{\"name\":");
        add_json_str(out, node->func, node->func_len);
        strbuf_addstr(out, ",\"file\":");
        add_json_str(out, node->file, node->file_len);
        if (node->line > 0) {
            strbuf_addf(out, ",\"line\":%ld", node->line);
        }
        strbuf_addch(out, '}');
    }
    strbuf_addstr(out, "]},\n\"profiles\":[");

    size_t start = m->stack_begin;
    for (int in = 0; in < m->ninputs; in++) {
        size_t end = m->stack_end[in];
        uint64_t total = 0;
        for (size_t i = start; i < end; i++) {
            total += g->stack_kept[i] ? prof->stacks[i].count : 0;
        }
        strbuf_addstr(out, in ? ",\n{" : "\n{");
        strbuf_addstr(out, "\"type\":\"sampled\",\"name\":");
        const char *name = strcmp(m->inputs[in], "-") == 0
            ? LOAD_STDIN_NAME : base_name(m->inputs[in]);
        add_json_str(out, name, strlen(name));
        strbuf_addf(out, ",\"unit\":\"none\",\"startValue\":0,"
                    "\"endValue\":%llu,\n\"samples\":[",
                    (unsigned long long)total);
        int first = 1;
        for (size_t i = start; i < end; i++) {
            if (!g->stack_kept[i]) {
                continue;
            }
            const struct stack *s = &prof->stacks[i];
            strbuf_addstr(out, first ? "\n[" : ",\n[");
            first = 0;
            for (uint32_t k = s->depth; k-- > 0;) {
                strbuf_addf(out, k + 1 < s->depth ? ",%u" : "%u",
                            index[g->frame_node[s->frames[k]]] - 1);
            }
            strbuf_addch(out, ']');
        }
        strbuf_addstr(out, "],\n\"weights\":[");
        first = 1;
        for (size_t i = start; i < end; i++) {
            if (g->stack_kept[i]) {
                strbuf_addf(out, first ? "%llu" : ",%llu",
                            (unsigned long long)prof->stacks[i].count);
                first = 0;
            }
        }
        strbuf_addstr(out, "]}");
        start = end;
    }
    strbuf_addstr(out, "],\n\"name\":");
    add_json_str(out, m->title, strlen(m->title));
    strbuf_addstr(out, ",\"activeProfileIndex\":0,\"exporter\":");
    add_json_str(out, m->exporter, strlen(m->exporter));
    strbuf_addstr(out, "}\n");
    return 0;
}
