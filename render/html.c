/*
 * html.c: the self-contained interactive HTML report (html_write in
 * html.h).  templates/report.html is copied with each marker comment
 * "<!-- plop:NAME -->" replaced: title, css (report.css), header (the
 * summary, built here), graph (gv.c's SVG, prolog, comments and xmlns
 * stripped), data (JSON) and js (report.js).
 *
 * Safety: text from the profile reaches the page only as escaped HTML
 * (strbuf_add_xml) or as JSON strings inside <script type=
 * "application/json"> (strbuf_add_json escapes < > & so "</script>" and
 * "<!--" cannot appear).  The templates are checked for "</script",
 * "</style" and "<!--" in the parts that go inside those elements.
 *
 * Size: bounded by what is shown, not by the number of samples: every
 * function once (the table lists them all), at most EDGES_PER_FUNC callers
 * and callees per function, and the flame tree under flametree.h's budget.
 * The JSON layout is documented at the top of templates/report.js.
 *
 * Deterministic: everything is in graph order (node ids, sorted edges,
 * the flame tree's total order); no time, path of the binary or address
 * is written.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "diff.h"
#include "flametree.h"
#include "graph.h"
#include "html.h"
#include "opts.h"
#include "present.h"
#include "profile.h"
#include "strbuf.h"
#include "templates.h"

/* The details panel lists the heaviest callers and callees. */
#define EDGES_PER_FUNC 16

static const char *
find_ci(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++) {
        if (strncasecmp(s + i, needle, n) == 0) {
            return s + i;
        }
    }
    return NULL;
}

static const char *
get_template(const char *name, size_t *len, const char *forbidden1,
             const char *forbidden2, struct diag *d)
{
    const char *t = templates_get(name, len);
    if (t == NULL) {
        diag_set(d, DIAG_IO, "error: template '%s' is not built in", name);
        return NULL;
    }
    if ((forbidden1 && find_ci(t, *len, forbidden1))
        || (forbidden2 && find_ci(t, *len, forbidden2))) {
        diag_set(d, DIAG_IO, "error: template '%s' contains '%s' or '%s'",
                 name, forbidden1, forbidden2 ? forbidden2 : forbidden1);
        return NULL;
    }
    return t;
}

static void
add_json_str(struct strbuf *sb, const char *s, size_t len)
{
    strbuf_addch(sb, '"');
    strbuf_add_json(sb, s, len);
    strbuf_addch(sb, '"');
}

/* ------------------------------------------------------------ header */

static void
add_stat(struct strbuf *sb, const char *label, uint64_t v)
{
    char buf[32];
    strbuf_addf(sb, "<div><dt>%s</dt><dd>%s</dd></div>\n", label,
                present_count(v, buf));
}

/* A comparison: what the colours mean and what the base was. */
static void
add_diff_note(struct strbuf *sb, const struct report_input *in)
{
    const struct diff *df = in->graph->diff;
    char a[32];
    strbuf_addstr(sb, "<p class=\"diff-note\">compared with ");
    int nb = in->opts ? in->opts->nbases : 0;
    for (int i = 0; i < nb; i++) {
        if (i > 0) {
            strbuf_addstr(sb, " &middot; ");
        }
        strbuf_add_xml(sb, in->opts->bases[i], strlen(in->opts->bases[i]));
    }
    if (nb == 0) {
        strbuf_addstr(sb, "the first counts of each line");
    }
    strbuf_addf(sb, " (%s samples): <span class=\"grew\">red grew</span>, "
                "<span class=\"shrank\">green shrank</span>, "
                "<span class=\"held\">grey held</span>; changes in %s</p>\n",
                present_count(df->total[DIFF_BASE], a),
                df->mode == RENDER_DIFF_ABSOLUTE
                    ? "samples" : "points of each side's share");
}

static void
add_header(struct strbuf *sb, const struct report_input *in)
{
    const struct graph *g = in->graph;
    const struct profile *p = in->prof;
    const char *title = present_title(in->opts ? in->opts->title : NULL,
                                      in->inputs, in->ninputs);
    char a[32], b[32], line[256];

    strbuf_addstr(sb, "<h1><span class=\"brand\">plop</span> ");
    strbuf_add_xml(sb, title, strlen(title));
    strbuf_addstr(sb, "</h1>\n<p class=\"inputs\">");
    for (int i = 0; i < in->ninputs; i++) {
        if (i > 0) {
            strbuf_addstr(sb, " &middot; ");
        }
        strbuf_add_xml(sb, in->inputs[i], strlen(in->inputs[i]));
    }
    strbuf_addstr(sb, "</p>\n");
    if (g->diff != NULL) {
        add_diff_note(sb, in);
    }
    strbuf_addstr(sb, "<dl class=\"stats\">\n");
    add_stat(sb, "samples", g->total);
    add_stat(sb, "stacks", g->nstacks_kept);
    add_stat(sb, g->granularity == RENDER_GRAN_LINE ? "lines" : "functions",
             g->nnodes);
    add_stat(sb, "in the graph", g->nshown);
    add_stat(sb, "deepest stack", p->max_depth);
    strbuf_addstr(sb, "</dl>\n<p class=\"pruning\">");
    present_summary(g, line, sizeof(line));
    strbuf_add_xml(sb, line, strlen(line));
    present_hidden(g, line, sizeof(line));
    if (line[0] != '\0') {
        strbuf_addstr(sb, "; ");
        strbuf_add_xml(sb, line, strlen(line));
    }
    if (in->opts && (in->opts->focus || in->opts->ignore)) {
        if (in->opts->focus) {
            strbuf_addstr(sb, "; focus '");
            strbuf_add_xml(sb, in->opts->focus, strlen(in->opts->focus));
            strbuf_addch(sb, '\'');
        }
        if (in->opts->ignore) {
            strbuf_addstr(sb, "; ignore '");
            strbuf_add_xml(sb, in->opts->ignore, strlen(in->opts->ignore));
            strbuf_addch(sb, '\'');
        }
        strbuf_addf(sb, " kept %s of %s samples",
                    present_count(g->total, a),
                    present_count(g->profile_total, b));
    }
    strbuf_addstr(sb, "</p>");
}

/* ------------------------------------------------------------ graph SVG */

/*
 * Copies Graphviz's SVG for inlining in HTML: from "<svg" on, without XML
 * comments (they repeat node names and cost bytes), and without the root's
 * xmlns attributes (HTML puts inline <svg> in the SVG namespace itself,
 * and the page must hold no URL).
 */
static void
add_graph_svg(struct strbuf *sb, const char *svg, size_t len)
{
    if (svg == NULL || len == 0) {
        strbuf_addstr(sb, "<p class=\"muted\">No samples to draw.</p>");
        return;
    }
    const char *end = svg + len;
    const char *p = svg;
    while (p + 4 <= end && strncmp(p, "<svg", 4) != 0) {
        p++;
    }
    if (p + 4 > end) {
        return;
    }
    const char *tag_end = memchr(p, '>', (size_t)(end - p));
    if (tag_end == NULL) {
        return;
    }
    /* The root tag, attribute by attribute, minus xmlns and xmlns:*. */
    const char *q = p;
    while (q < tag_end) {
        if (*q == ' ' || *q == '\n' || *q == '\t') {
            const char *attr = q;
            while (attr < tag_end && (*attr == ' ' || *attr == '\n'
                                      || *attr == '\t')) {
                attr++;
            }
            size_t left = (size_t)(tag_end - attr);
            if (left > 5 && strncmp(attr, "xmlns", 5) == 0
                && (attr[5] == '=' || attr[5] == ':')) {
                const char *quote = memchr(attr, '"', left);
                const char *close = NULL;
                if (quote != NULL) {
                    close = memchr(quote + 1, '"',
                                   (size_t)(tag_end - quote - 1));
                }
                if (close != NULL) {
                    q = close + 1;
                    continue;
                }
            }
            strbuf_addch(sb, ' ');
            q = attr;
            continue;
        }
        strbuf_addch(sb, *q);
        q++;
    }
    p = tag_end;
    while (p < end) {
        const char *c = NULL;
        for (const char *s = p; s + 4 <= end; s++) {
            if (s[0] == '<' && s[1] == '!' && s[2] == '-' && s[3] == '-') {
                c = s;
                break;
            }
        }
        if (c == NULL) {
            strbuf_add(sb, p, (size_t)(end - p));
            break;
        }
        strbuf_add(sb, p, (size_t)(c - p));
        const char *ce = NULL;
        for (const char *s = c + 4; s + 3 <= end; s++) {
            if (s[0] == '-' && s[1] == '-' && s[2] == '>') {
                ce = s + 3;
                break;
            }
        }
        if (ce == NULL) {
            break;
        }
        /* Drop the newline that ended the comment's line too. */
        if (ce < end && *ce == '\n') {
            ce++;
        }
        p = ce;
    }
}

/* ------------------------------------------------------------ data */

/* Colours as a palette: "#rrggbb" strings, each once, by first use. */
struct palette {
    uint32_t *keys;         /* rgb + 1, 0 = empty */
    uint32_t *vals;
    size_t mask;
    uint32_t n;
};

static uint32_t
palette_index(struct palette *pl, struct strbuf *list, const char *hex)
{
    uint32_t rgb = (uint32_t)strtoul(hex + 1, NULL, 16) + 1;
    size_t h = (rgb * 2654435761u) & pl->mask;
    while (pl->keys[h] != 0) {
        if (pl->keys[h] == rgb) {
            return pl->vals[h];
        }
        h = (h + 1) & pl->mask;
    }
    pl->keys[h] = rgb;
    pl->vals[h] = pl->n;
    if (pl->n > 0) {
        strbuf_addch(list, ',');
    }
    strbuf_addf(list, "\"%s\"", hex);
    return pl->n++;
}

static int
edge_by_callee(const void *pa, const void *pb, const struct graph *g)
{
    const struct graph_edge *a = &g->edges[*(const size_t *)pa];
    const struct graph_edge *b = &g->edges[*(const size_t *)pb];
    if (a->to != b->to) {
        return a->to < b->to ? -1 : 1;
    }
    if (a->weight != b->weight) {
        return a->weight > b->weight ? -1 : 1;
    }
    return a->from < b->from ? -1 : a->from > b->from;
}

static int
edge_by_caller(const void *pa, const void *pb, const struct graph *g)
{
    const struct graph_edge *a = &g->edges[*(const size_t *)pa];
    const struct graph_edge *b = &g->edges[*(const size_t *)pb];
    if (a->from != b->from) {
        return a->from < b->from ? -1 : 1;
    }
    if (a->weight != b->weight) {
        return a->weight > b->weight ? -1 : 1;
    }
    return a->to < b->to ? -1 : a->to > b->to;
}

/* qsort has no context argument in C11; the graph being sorted is kept
 * here for the duration of one sort. */
static const struct graph *sort_graph;

static int
cmp_callee(const void *a, const void *b)
{
    return edge_by_callee(a, b, sort_graph);
}

static int
cmp_caller(const void *a, const void *b)
{
    return edge_by_caller(a, b, sort_graph);
}

/* Marks in keep[] the EDGES_PER_FUNC heaviest edges of every caller and
 * of every callee. */
static void
choose_edges(const struct graph *g, struct arena *a, unsigned char *keep)
{
    size_t n = g->nedges;
    size_t *ix = arena_alloc(a, (n ? n : 1) * sizeof(*ix));
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            ix[i] = i;
        }
        sort_graph = g;
        qsort(ix, n, sizeof(*ix), pass == 0 ? cmp_caller : cmp_callee);
        sort_graph = NULL;
        size_t run = 0;
        for (size_t i = 0; i < n; i++) {
            const struct graph_edge *e = &g->edges[ix[i]];
            const struct graph_edge *prev = i ? &g->edges[ix[i - 1]] : NULL;
            if (prev == NULL || (pass == 0 ? prev->from != e->from
                                           : prev->to != e->to)) {
                run = 0;
            }
            if (run++ < EDGES_PER_FUNC) {
                keep[ix[i]] = 1;
            }
        }
    }
}

/* A comparison's columns: the base side's self and inclusive counts,
 * and whether each change is beyond noise (diff.h), 1 or 0. */
static void
add_diff_columns(struct strbuf *sb, const struct diff *df, uint32_t n)
{
    static const char *const names[] = {"self0", "incl0", "moved"};
    for (int c = 0; c < 3; c++) {
        strbuf_addf(sb, "],\n\"%s\":[", names[c]);
        for (uint32_t i = 0; i < n; i++) {
            const struct diff_node *dn = &df->nodes[i];
            unsigned long long v =
                c == 0 ? dn->self[DIFF_BASE]
                : c == 1 ? dn->incl[DIFF_BASE]
                : (unsigned long long)(diff_significant(df, dn->self[0],
                                                        dn->self[1])
                                       || diff_significant(df, dn->incl[0],
                                                           dn->incl[1]));
            strbuf_addf(sb, i ? ",%llu" : "%llu", v);
        }
    }
}

static void
add_data(struct strbuf *sb, const struct report_input *in)
{
    const struct graph *g = in->graph;
    struct arena *a = sb->arena;
    enum render_color mode = in->opts ? in->opts->color : RENDER_COLOR_FILE;
    uint32_t n = g->nnodes;
    struct strbuf colors, cols;
    struct palette pl;
    char hex[8];

    strbuf_init(&colors, a);
    strbuf_init(&cols, a);
    size_t tab = 64;
    /* At most one colour per function, plus, in a comparison, the flame
     * frames' change colours: two gradients of at most 256 steps (one
     * channel changes by one unit per step at least) and grey. */
    size_t ncolors = (size_t)n + (g->diff != NULL ? 2 * 256 + 1 : 0);
    while (tab < 2 * ncolors + 2) {
        tab *= 2;
    }
    pl.keys = arena_calloc(a, tab, sizeof(*pl.keys));
    pl.vals = arena_alloc(a, tab * sizeof(*pl.vals));
    pl.mask = tab - 1;
    pl.n = 0;

    strbuf_addf(sb, "{\"version\":1,\"total\":%llu,",
                (unsigned long long)g->total);
    if (g->diff != NULL) {
        strbuf_addf(sb, "\"diff\":{\"total0\":%llu,\"mode\":\"%s\"},",
                    (unsigned long long)g->diff->total[DIFF_BASE],
                    g->diff->mode == RENDER_DIFF_ABSOLUTE ? "absolute"
                                                          : "share");
    }
    strbuf_addstr(sb, "\"files\":[");
    /* Nodes are sorted by file first: equal files are neighbours. */
    uint32_t *file_ix = arena_alloc(a, (n ? n : 1) * sizeof(*file_ix));
    uint32_t nfiles = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct graph_node *nd = &g->nodes[i];
        const struct graph_node *pv = i ? &g->nodes[i - 1] : NULL;
        if (pv == NULL || pv->file_len != nd->file_len
            || memcmp(pv->file, nd->file, nd->file_len) != 0) {
            if (nfiles > 0) {
                strbuf_addch(sb, ',');
            }
            add_json_str(sb, nd->file, nd->file_len);
            nfiles++;
        }
        file_ix[i] = nfiles - 1;
    }
    strbuf_addstr(sb, "],\n\"funcs\":{\"name\":[");
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0) {
            strbuf_addch(sb, ',');
        }
        add_json_str(sb, g->nodes[i].func, g->nodes[i].func_len);
        present_node_color(g, i, mode, hex);
        strbuf_addf(&cols, i ? ",%u" : "%u", palette_index(&pl, &colors, hex));
    }
    strbuf_addstr(sb, "],\n\"file\":[");
    for (uint32_t i = 0; i < n; i++) {
        strbuf_addf(sb, i ? ",%u" : "%u", file_ix[i]);
    }
    strbuf_addstr(sb, "],\n\"line\":[");
    for (uint32_t i = 0; i < n; i++) {
        strbuf_addf(sb, i ? ",%ld" : "%ld", g->nodes[i].line);
    }
    strbuf_addstr(sb, "],\n\"self\":[");
    for (uint32_t i = 0; i < n; i++) {
        strbuf_addf(sb, i ? ",%llu" : "%llu",
                    (unsigned long long)g->nodes[i].self);
    }
    strbuf_addstr(sb, "],\n\"incl\":[");
    for (uint32_t i = 0; i < n; i++) {
        strbuf_addf(sb, i ? ",%llu" : "%llu",
                    (unsigned long long)g->nodes[i].incl);
    }
    if (g->diff != NULL) {
        add_diff_columns(sb, g->diff, n);
    }
    strbuf_addstr(sb, "],\n\"color\":[");
    strbuf_add(sb, cols.buf, cols.len);
    /* The flame tree now: in a comparison its frames add colours to the
     * palette (each call path coloured by its own change). */
    struct flame_tree t;
    flame_tree_build(&t, a, g, FLAME_HTML_DIVISOR, FLAME_HTML_MAX_NODES);
    const uint64_t *fbase = NULL;
    struct strbuf fcols;
    strbuf_init(&fcols, a);
    if (g->diff != NULL) {
        fbase = diff_flame_base(g->diff, g, &t, a);
        for (size_t i = 0; i < t.n; i++) {
            diff_color(g->diff, fbase[i], t.value[i], hex);
            strbuf_addf(&fcols, i ? ",%u" : "%u",
                        palette_index(&pl, &colors, hex));
        }
    }
    strbuf_addstr(sb, "]},\n\"colors\":[");
    strbuf_add(sb, colors.buf, colors.len);

    /* Shown nodes are named "n<id>" in the SVG (gv.h). */
    strbuf_addstr(sb, "],\n\"shown\":[");
    for (uint32_t i = 0; i < g->nshown; i++) {
        strbuf_addf(sb, i ? ",%u" : "%u", g->shown[i]);
    }

    strbuf_addstr(sb, "],\n\"tails\":[");
    for (uint32_t i = 0; i < g->ntails; i++) {
        const struct graph_tail *tl = &g->tails[i];
        strbuf_addf(sb, i ? ",%u,%u,%llu,%llu" : "%u,%u,%llu,%llu",
                    tl->caller, tl->nfuncs, (unsigned long long)tl->self,
                    (unsigned long long)tl->max_self);
    }

    strbuf_addstr(sb, "],\n\"edges\":[");
    unsigned char *keep = arena_calloc(a, g->nedges ? g->nedges : 1, 1);
    choose_edges(g, a, keep);
    int first = 1;
    for (size_t i = 0; i < g->nedges; i++) {
        if (keep[i]) {
            const struct graph_edge *e = &g->edges[i];
            strbuf_addf(sb, first ? "%u,%u,%llu" : ",%u,%u,%llu", e->from,
                        e->to, (unsigned long long)e->weight);
            first = 0;
        }
    }

    strbuf_addstr(sb, "],\n\"flame\":{\"f\":[");
    for (size_t i = 0; i < t.n; i++) {
        if (t.node[i] == GRAPH_NO_NODE) {
            strbuf_addstr(sb, i ? ",-1" : "-1");
        }
        else {
            strbuf_addf(sb, i ? ",%u" : "%u", t.node[i]);
        }
    }
    strbuf_addstr(sb, "],\n\"d\":[");
    for (size_t i = 0; i < t.n; i++) {
        strbuf_addf(sb, i ? ",%u" : "%u", t.depth[i]);
    }
    strbuf_addstr(sb, "],\n\"v\":[");
    for (size_t i = 0; i < t.n; i++) {
        strbuf_addf(sb, i ? ",%llu" : "%llu", (unsigned long long)t.value[i]);
    }
    if (g->diff != NULL) {
        strbuf_addstr(sb, "],\n\"v0\":[");
        for (size_t i = 0; i < t.n; i++) {
            strbuf_addf(sb, i ? ",%llu" : "%llu",
                        (unsigned long long)fbase[i]);
        }
        strbuf_addstr(sb, "],\n\"c\":[");
        strbuf_add(sb, fcols.buf, fcols.len);
    }
    strbuf_addf(sb, "],\n\"min\":%llu,\"omitted\":%llu}}",
                (unsigned long long)t.min, (unsigned long long)t.omitted);
}

/* ------------------------------------------------------------ page */

int
html_write(struct strbuf *out, const struct report_input *in, struct diag *d)
{
    size_t html_len, css_len, js_len;
    const char *html = get_template("report.html", &html_len, NULL, NULL, d);
    const char *css = html ? get_template("report.css", &css_len, "</style",
                                          "<!--", d) : NULL;
    const char *js = css ? get_template("report.js", &js_len, "</script",
                                        "<!--", d) : NULL;
    if (js == NULL) {
        return -1;
    }
    static const char open[] = "<!-- plop:";
    const char *p = html;
    const char *end = html + html_len;
    while (p < end) {
        const char *m = strstr(p, open);
        if (m == NULL) {
            strbuf_add(out, p, (size_t)(end - p));
            break;
        }
        const char *name = m + sizeof(open) - 1;
        const char *close = strstr(name, " -->");
        if (close == NULL) {
            diag_set(d, DIAG_IO, "error: template 'report.html' has an "
                     "unclosed marker");
            return -1;
        }
        strbuf_add(out, p, (size_t)(m - p));
        size_t nlen = (size_t)(close - name);
        if (nlen == 5 && strncmp(name, "title", 5) == 0) {
            const char *t = present_title(in->opts ? in->opts->title
                                                   : NULL,
                                          in->inputs, in->ninputs);
            strbuf_add_xml(out, t, strlen(t));
            strbuf_addstr(out, " \xe2\x80\x94 plop profile");
        }
        else if (nlen == 3 && strncmp(name, "css", 3) == 0) {
            strbuf_add(out, css, css_len);
        }
        else if (nlen == 2 && strncmp(name, "js", 2) == 0) {
            strbuf_add(out, js, js_len);
        }
        else if (nlen == 6 && strncmp(name, "header", 6) == 0) {
            add_header(out, in);
        }
        else if (nlen == 5 && strncmp(name, "graph", 5) == 0) {
            add_graph_svg(out, in->graph_svg, in->graph_svg_len);
        }
        else if (nlen == 4 && strncmp(name, "data", 4) == 0) {
            add_data(out, in);
        }
        else {
            diag_set(d, DIAG_IO, "error: template 'report.html' has an "
                     "unknown marker '%.*s'", (int)nlen, name);
            return -1;
        }
        p = close + 4;
    }
    return 0;
}
