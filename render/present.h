/*
 * present.h: how plop-render presents numbers and nodes, shared by every
 * writer (gv.c, text.c, html.c, flame.c) so that the call graph, the flame
 * graph, the HTML report and the text summary agree (present.c): node
 * colours, short locations, counts with thousands separators, the summary
 * line.  Nothing here changes the graph or allocates.
 */
#ifndef PLOP_PRESENT_H
#define PLOP_PRESENT_H

#include <stddef.h>
#include <stdint.h>

#include "opts.h"

struct graph;
struct graph_node;

/*
 * The fill colour of node `id` of g as "#rrggbb" in out[8]
 * (NUL-terminated).  RENDER_COLOR_FILE: a light colour from a hash of the
 * file name (the same file always gets the same colour, across runs and
 * profiles), or present_func_color() for a node without a file;
 * RENDER_COLOR_HEAT: from pale yellow (no self samples) to red
 * (g->max_self).  In a comparison (g->diff) the colour of the node's
 * change in self share, whatever the mode (diff_color() in diff.h).
 * Dark text is readable on every result.  O(name length).
 */
void present_node_color(const struct graph *g, uint32_t id,
                        enum render_color mode, char out[8]);

/* The colour for a file name alone (what RENDER_COLOR_FILE uses), for
 * frames that are not in a node. */
void present_file_color(const char *file, size_t len, char out[8]);

/*
 * What RENDER_COLOR_FILE gives a node without a file (other tools'
 * collapsed stacks): a colour for its module, the package or namespace
 * prefix of the name ("java/util/" of "java/util/HashMap.get", "std::",
 * "runtime.", "node:"; the whole name when it has none), in the hue
 * family of its annotation `kind` (graph_node.kind: kernel warm, JIT
 * green, inlined aqua, waker blue, as flamegraph.pl draws them).
 */
void present_func_color(const char *func, size_t len, char kind,
                        char out[8]);

/*
 * The node's short location, "base.py:12" (the last path component of
 * file and the line), into buf of size n, truncated if needed; "" for a
 * node without a file (collapsed stacks of other tools), which no
 * picture gives a ":0".  Returns
 * the length it would have had (snprintf's contract).
 */
int present_short_loc(const struct graph_node *node, char *buf, size_t n);

/* Formats v with thousands separators ("4,337") into buf[32]; returns
 * buf. */
const char *present_count(uint64_t v, char buf[32]);

/* "1 sample", "4,337 samples" into buf[48]; returns buf. */
const char *present_samples(uint64_t v, char buf[48]);

/*
 * The summary line every picture carries, e.g.
 * "showing 80 of 4,337 functions, 97.1 % of self samples" (granularity
 * line says "lines"), into buf of size n, followed by ", and 26.8 % in
 * 1 box of hidden functions below its caller" when g has tails
 * (graph.h).  Call after graph_prune().
 */
void present_summary(const struct graph *g, char *buf, size_t n);

/*
 * What the picture leaves out, in words, into buf of size n (empty when
 * nothing is hidden): "4,257 hidden functions hold 2.9 % of self samples,
 * at most 3 samples each; 12 calls of under 5 samples hidden" (singular
 * forms where they apply, "have no self samples" when none).  Call after
 * graph_prune().
 */
void present_hidden(const struct graph *g, char *buf, size_t n);

/*
 * The title of a picture: `title` (--title) when given, else the base
 * name of the first input, LOAD_STDIN_NAME for standard input, or
 * "profile" without inputs.  Points into its arguments or a constant.
 */
const char *present_title(const char *title, const char *const *inputs,
                          int ninputs);

#endif
