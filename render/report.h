/*
 * report.h: what the report writers read (html.h, flame.h): the profile,
 * its built and pruned graph, the call graph already laid out as SVG when
 * the writer embeds it, and the command line's inputs and options.  All
 * borrowed: the caller keeps everything alive while the writer runs.
 */
#ifndef PLOP_REPORT_H
#define PLOP_REPORT_H

#include <stddef.h>

struct graph;
struct profile;
struct render_opts;

struct report_input {
    const struct profile *prof;
    const struct graph *graph;      /* built and pruned (graph.h) */
    const char *graph_svg;          /* the call graph as SVG, from gv.c;
                                     * NULL for writers that do not embed
                                     * it (flame.h) */
    size_t graph_svg_len;
    const char *const *inputs;      /* input file names as given */
    int ninputs;
    const struct render_opts *opts; /* the command line's options */
};

#endif
