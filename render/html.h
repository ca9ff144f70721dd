/*
 * html.h: the self-contained interactive HTML report (html.c) and the
 * standalone flame graph SVG (flame.c).  Both write into a strbuf; main.c
 * puts the bytes on disk.
 */
#ifndef PLOP_HTML_H
#define PLOP_HTML_H

#include <stddef.h>

#include "diag.h"

struct graph;
struct profile;
struct strbuf;
struct render_opts;

struct report_input {
    const struct profile *prof;
    const struct graph *graph;      /* built and pruned (graph.h) */
    const char *graph_svg;          /* the call graph as SVG, from gv.c */
    size_t graph_svg_len;
    const char *const *inputs;      /* input file names as given */
    int ninputs;
    const struct render_opts *opts; /* the command line's options */
};

/* Writes the HTML page to out.  Returns 0, or -1 with d filled. */
int html_write(struct strbuf *out, const struct report_input *in,
               struct diag *d);

/* Writes the flame graph (icicle) as a standalone static SVG. */
int flame_svg_write(struct strbuf *out, const struct report_input *in,
                    struct diag *d);

#endif
