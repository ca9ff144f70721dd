/*
 * present.c: colours, short locations, counts and the summary line that
 * every writer shares (see present.h).
 *
 * File colours hash the file name with FNV-1a into a hue and one of two
 * lightness levels, so a file keeps its colour across runs and profiles.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "diff.h"
#include "graph.h"
#include "hash.h"
#include "load.h"
#include "present.h"

/* ------------------------------------------------------------ colours */

static void
hex_color(double r, double g, double b, char out[8])
{
    snprintf(out, 8, "#%02x%02x%02x", (unsigned)lround(r * 255),
             (unsigned)lround(g * 255), (unsigned)lround(b * 255));
}

static double
hue_channel(double p, double q, double t)
{
    if (t < 0) {
        t += 1;
    }
    if (t > 1) {
        t -= 1;
    }
    if (t < 1.0 / 6) {
        return p + (q - p) * 6 * t;
    }
    if (t < 0.5) {
        return q;
    }
    if (t < 2.0 / 3) {
        return p + (q - p) * (2.0 / 3 - t) * 6;
    }
    return p;
}

/* A light colour from hash h with its hue in [lo, lo + span) degrees;
 * two lightness levels double the number of distinguishable keys.
 * Saturation and lightness keep dark text readable. */
static void
light_color(uint32_t h, unsigned lo, unsigned span, char out[8])
{
    double hue = ((lo + h % span) % 360) / 360.0;
    double l = (h >> 16) & 1 ? 0.80 : 0.86;
    double s = 0.62;
    double q = l + s - l * s;
    double p = 2 * l - q;
    hex_color(hue_channel(p, q, hue + 1.0 / 3), hue_channel(p, q, hue),
              hue_channel(p, q, hue - 1.0 / 3), out);
}

void
present_file_color(const char *file, size_t len, char out[8])
{
    light_color(fnv1a(FNV1A_INIT, file, len), 0, 360, out);
}

/* The module part of a name without a file: the package or namespace
 * prefix ("java/util/", "std::", "runtime.", "node:"), or the whole name
 * when it has none.  Its length. */
static size_t
module_prefix(const char *f, size_t n)
{
    size_t last_slash = 0, first_colons = 0, last_dot = 0, first_colon = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i] == '/') {
            last_slash = i + 1;
        } else if (f[i] == ':' && i + 1 < n && f[i + 1] == ':' && i > 0
                   && first_colons == 0) {
            first_colons = i + 2;
        } else if (f[i] == ':' && i > 0 && first_colon == 0) {
            first_colon = i + 1;
        } else if (f[i] == '.' && i > 0) {
            last_dot = i + 1;
        }
    }
    if (last_slash > 0) {
        return last_slash;
    }
    if (first_colons > 0) {
        return first_colons;
    }
    if (first_colon > 0) {
        return first_colon;
    }
    return last_dot > 0 ? last_dot : n;
}

void
present_func_color(const char *func, size_t len, char kind, char out[8])
{
    uint32_t h = fnv1a(2166136261u, func, module_prefix(func, len));
    /* flamegraph.pl's families: kernel warm, JIT green, inlined aqua,
     * waker blue; other code anywhere on the circle. */
    switch (kind) {
    case 'k':
        light_color(h, 10, 40, out);
        return;
    case 'j':
        light_color(h, 85, 60, out);
        return;
    case 'i':
        light_color(h, 165, 30, out);
        return;
    case 'w':
        light_color(h, 205, 40, out);
        return;
    }
    light_color(h, 0, 360, out);
}

void
present_node_color(const struct graph *g, uint32_t id, enum render_color mode,
                 char out[8])
{
    const struct graph_node *n = &g->nodes[id];
    if (g->diff != NULL) {
        /* A comparison colours by change (diff.h), in every picture. */
        const struct diff_node *dn = &g->diff->nodes[id];
        diff_color(g->diff, dn->self[DIFF_BASE], dn->self[DIFF_NEW], out);
        return;
    }
    if (mode == RENDER_COLOR_FILE && n->file_len > 0) {
        present_file_color(n->file, n->file_len, out);
        return;
    }
    if (mode == RENDER_COLOR_FILE) {
        present_func_color(n->func, n->func_len, n->kind, out);
        return;
    }
    uint64_t max = g->max_self;
    double t = max ? sqrt((double)n->self / (double)max) : 0;
    /* pale yellow (255,245,214) to red (232,80,62) */
    hex_color((255 + (232 - 255) * t) / 255, (245 + (80 - 245) * t) / 255,
              (214 + (62 - 214) * t) / 255, out);
}

/* ------------------------------------------------------------ text */

int
present_short_loc(const struct graph_node *n, char *buf, size_t size)
{
    if (n->file_len == 0) {
        return snprintf(buf, size, "%s", "");
    }
    const char *base = n->file;
    for (uint32_t i = 0; i < n->file_len; i++) {
        if (n->file[i] == '/' || n->file[i] == '\\') {
            base = n->file + i + 1;
        }
    }
    int blen = (int)(n->file_len - (uint32_t)(base - n->file));
    return snprintf(buf, size, "%.*s:%ld", blen, base, n->line);
}

const char *
present_count(uint64_t v, char buf[32])
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
    int o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            buf[o++] = ',';
        }
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

const char *
present_samples(uint64_t v, char buf[48])
{
    char n[32];
    snprintf(buf, 48, "%s sample%s", present_count(v, n), v == 1 ? "" : "s");
    return buf;
}

static double
share(uint64_t v, uint64_t total)
{
    return total ? 100.0 * (double)v / (double)total : 0.0;
}

void
present_summary(const struct graph *g, char *buf, size_t size)
{
    char a[32], b[32];
    snprintf(buf, size, "showing %s of %s %s, %.1f %% of self samples",
             present_count(g->nshown, a), present_count(g->nnodes, b),
             g->granularity == RENDER_GRAN_LINE ? "lines" : "functions",
             share(g->shown_self, g->total));
    size_t used = strlen(buf);
    if (g->ntails > 0 && used < size) {
        snprintf(buf + used, size - used, ", and %.1f %% in %u box%s of "
                 "hidden %s below %s caller%s", share(g->tail_self, g->total),
                 g->ntails, g->ntails == 1 ? "" : "es",
                 g->granularity == RENDER_GRAN_LINE ? "lines" : "functions",
                 g->ntails == 1 ? "its" : "their",
                 g->ntails == 1 ? "" : "s");
    }
}

void
present_hidden(const struct graph *g, char *buf, size_t size)
{
    char a[32], b[48], c[48];
    const char *unit = g->granularity == RENDER_GRAN_LINE ? "line"
                                                          : "function";
    uint32_t n = g->dropped_nodes;
    uint64_t self = g->total - g->shown_self;
    int used = 0;
    buf[0] = '\0';
    if (n == 1 && self == 0) {
        used = snprintf(buf, size, "1 hidden %s has no self samples", unit);
    }
    else if (n > 1 && self == 0) {
        used = snprintf(buf, size, "%s hidden %ss have no self samples",
                        present_count(n, a), unit);
    }
    else if (n == 1) {
        used = snprintf(buf, size, "1 hidden %s holds %.1f %% of self "
                        "samples (%s)", unit, share(self, g->total),
                        present_samples(self, b));
    }
    else if (n > 1) {
        used = snprintf(buf, size, "%s hidden %ss hold %.1f %% of self "
                        "samples, at most %s each", present_count(n, a),
                        unit, share(self, g->total),
                        present_samples(g->hidden_max_self, b));
    }
    if (used < 0 || (size_t)used >= size || g->dropped_edges == 0) {
        return;
    }
    snprintf(buf + used, size - (size_t)used,
             "%s%s call%s of under %s hidden", used ? "; " : "",
             present_count(g->dropped_edges, a),
             g->dropped_edges == 1 ? "" : "s",
             present_samples(g->edge_cutoff, c));
}

const char *
present_title(const char *title, const char *const *inputs, int ninputs)
{
    if (title != NULL) {
        return title;
    }
    if (ninputs <= 0 || inputs == NULL) {
        return "profile";
    }
    if (strcmp(inputs[0], "-") == 0) {
        return LOAD_STDIN_NAME;
    }
    const char *base = strrchr(inputs[0], '/');
    base = base != NULL ? base + 1 : inputs[0];
    return *base ? base : inputs[0];
}
