/*
 * flame.c: the flame graph as a standalone, static SVG 1.1 document
 * (flame_svg_write in flame.h): an icicle, callers above callees, laid out
 * here in C, so it needs no script and shows the same in any viewer.
 *
 * Frames come from flametree.c (narrow frames left out by its budget),
 * colours from present_node_color(), so they match the call graph.  Every
 * frame carries a <title> (full name, file:line, samples), which viewers
 * show on hover.  Labels are cut to the width of their box with an
 * estimated glyph width; invalid UTF-8 becomes U+FFFD so the document is
 * always well-formed XML.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "diff.h"
#include "flametree.h"
#include "graph.h"
#include "flame.h"
#include "opts.h"
#include "present.h"
#include "profile.h"
#include "strbuf.h"
#include "utf8.h"

#define FLAME_SVG_WIDTH 1200.0
#define FLAME_PAD 10.0
#define FLAME_ROW 17
#define FLAME_TOP 46
#define FLAME_GLYPH 6.6         /* estimated advance of an 11px glyph */

/*
 * Adds s[0..len) as XML text: escaped, invalid UTF-8 as U+FFFD, and cut
 * to at most `max` characters (the last two then being "..").  max 0
 * means no limit.
 */
static void
add_text(struct strbuf *sb, const char *s, size_t len, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t chars = 0;
    size_t i = 0;
    if (max > 0) {
        /* Count first: only a text that does not fit is cut. */
        size_t total = 0;
        for (size_t j = 0; j < len; total++) {
            size_t n = utf8_valid_len(u + j, len - j);
            j += n ? n : 1;
        }
        if (total <= max) {
            max = 0;
        }
        else {
            max = max > 2 ? max - 2 : 0;
        }
    }
    while (i < len) {
        if (max > 0 && chars == max) {
            strbuf_addstr(sb, "..");
            return;
        }
        size_t n = utf8_valid_len(u + i, len - i);
        if (n == 0) {
            strbuf_addstr(sb, "\xef\xbf\xbd");
            i++;
        }
        else {
            strbuf_add_xml(sb, s + i, n);
            i += n;
        }
        chars++;
    }
}

int
flame_svg_write(struct strbuf *out, const struct report_input *in,
                struct diag *d)
{
    const struct graph *g = in->graph;
    struct arena *a = out->arena;
    enum render_color mode = in->opts ? in->opts->color : RENDER_COLOR_FILE;
    struct flame_tree t;
    (void)d;

    flame_tree_build(&t, a, g, FLAME_SVG_DIVISOR, FLAME_SVG_MAX_NODES);
    /* A comparison colours each call path by its own change. */
    const uint64_t *base = g->diff ? diff_flame_base(g->diff, g, &t, a)
                                   : NULL;
    char path_color[8];

    double width = FLAME_SVG_WIDTH - 2 * FLAME_PAD;
    double scale = t.value[0] ? width / (double)t.value[0] : 0;
    int height = FLAME_TOP + (int)(t.max_depth + 1) * FLAME_ROW + 24;

    /* next[d]: where the next child of the open node at depth d starts. */
    uint64_t *next = arena_calloc(a, (size_t)t.max_depth + 2, sizeof(*next));
    /* Colours are computed once per graph node. */
    char (*color)[8] = arena_calloc(a, g->nnodes ? g->nnodes : 1,
                                    sizeof(*color));

    strbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    strbuf_addf(out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
        "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
        "font-family=\"Verdana, 'DejaVu Sans', sans-serif\" "
        "font-size=\"11\">\n",
        (int)FLAME_SVG_WIDTH, height, (int)FLAME_SVG_WIDTH, height);
    strbuf_addstr(out, "<rect width=\"100%\" height=\"100%\" "
                  "fill=\"#ffffff\"/>\n");

    const char *title = present_title(in->opts ? in->opts->title : NULL,
                                      in->inputs, in->ninputs);
    strbuf_addf(out, "<text x=\"%.0f\" y=\"20\" font-size=\"15\" "
                "font-weight=\"bold\">", FLAME_PAD);
    add_text(out, title, strlen(title), 120);
    strbuf_addstr(out, "</text>\n");

    char total_s[48], min_s[48], omit_s[48];
    strbuf_addf(out, "<text x=\"%.0f\" y=\"37\" fill=\"#5f6b7a\">"
                "flame graph of %s", FLAME_PAD,
                present_samples(g->total, total_s));
    if (g->diff != NULL) {
        strbuf_addf(out, "; compared with a base of %s: red grew, green "
                    "shrank, grey held",
                    present_samples(g->diff->total[DIFF_BASE], min_s));
    }
    if (t.omitted > 0) {
        strbuf_addf(out, "; frames under %s left out (%s, %.2f %%)",
                    present_samples(t.min, min_s),
                    present_samples(t.omitted, omit_s),
                    100.0 * (double)t.omitted / (double)g->total);
    }
    strbuf_addstr(out, "</text>\n");

    for (size_t i = 0; i < t.n; i++) {
        uint32_t depth = t.depth[i];
        uint64_t x0 = depth == 0 ? 0 : next[depth - 1];
        if (depth > 0) {
            next[depth - 1] += t.value[i];
        }
        next[depth] = x0;

        double x = FLAME_PAD + (double)x0 * scale;
        double w = (double)t.value[i] * scale;
        int y = FLAME_TOP + (int)depth * FLAME_ROW;
        uint32_t id = t.node[i];
        const char *name = "all";
        size_t name_len = 3;
        const char *fill = "#c9ced6";
        if (id != GRAPH_NO_NODE) {
            const struct graph_node *nd = &g->nodes[id];
            name = nd->func;
            name_len = nd->func_len;
            if (base != NULL) {
                diff_color(g->diff, base[i], t.value[i], path_color);
                fill = path_color;
            } else {
                if (color[id][0] == '\0') {
                    present_node_color(g, id, mode, color[id]);
                }
                fill = color[id];
            }
        }

        strbuf_addstr(out, "<g><title>");
        add_text(out, name, name_len, 0);
        if (id != GRAPH_NO_NODE && g->nodes[id].file_len > 0) {
            const struct graph_node *nd = &g->nodes[id];
            strbuf_addstr(out, " (");
            add_text(out, nd->file, nd->file_len, 0);
            strbuf_addf(out, ":%ld)", nd->line);
        }
        char v_s[32];
        strbuf_addf(out, "\n%s samples, %.2f %%",
                    present_count(t.value[i], v_s),
                    g->total ? 100.0 * (double)t.value[i] / (double)g->total
                             : 0.0);
        if (base != NULL) {
            char lb[64];
            diff_label(g->diff, base[i], t.value[i], lb, sizeof(lb));
            strbuf_addf(out, "\nbase %s samples; now %s",
                        present_count(base[i], v_s), lb);
        }
        strbuf_addstr(out, "</title>");
        strbuf_addf(out, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
                    "height=\"%d\" fill=\"%s\" stroke=\"#ffffff\" "
                    "stroke-width=\"0.5\"/>",
                    x, y, w, FLAME_ROW - 1, fill);
        size_t fit = w > 8 ? (size_t)((w - 6) / FLAME_GLYPH) : 0;
        if (fit >= 3) {
            strbuf_addf(out, "<text x=\"%.2f\" y=\"%d\">", x + 3,
                        y + FLAME_ROW - 5);
            add_text(out, name, name_len, fit);
            strbuf_addstr(out, "</text>");
        }
        strbuf_addstr(out, "</g>\n");
    }
    strbuf_addstr(out, "</svg>\n");
    return 0;
}
