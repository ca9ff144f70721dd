/*
 * gv.h: the pruned call graph drawn by Graphviz (gv.c, the only file that
 * includes <gvc.h>): layout with "dot" in-process, output as SVG, PNG,
 * PDF or canonical DOT into a strbuf.
 *
 * What the picture holds (the same in every format):
 *   - one box per shown node (graph.shown), named and with SVG id
 *     "n<node id>" (the node id of graph.h), label
 *     "func\nbase.py:LINE\nself S %\nincl I %", font size growing with
 *     the node's self samples, fill colour present_node_color(), tooltip
 *     "func\n/full/path.py:LINE\nself N samples (S %)\nincl M samples
 *     (I %)";
 *   - one arrow per shown edge, SVG id "e<from>-<to>", thickness growing
 *     with its weight, label "P %" of the total, dotted when bridged;
 *   - the graph label: the title, the total, and present_summary();
 *   - layout hints only (gv.c's arrange_rows): arrows to the leaves of a
 *     wide fan carry a staggered "minlen", and boxes without arrows are
 *     tied into columns by edges with style "invis" (in DOT text too).
 * Every string from the profile is escaped for Graphviz (backslashes,
 * control bytes; invalid UTF-8 becomes U+FFFD); Graphviz escapes XML in
 * SVG.
 */
#ifndef PLOP_GV_H
#define PLOP_GV_H

#include "diag.h"

struct graph;
struct render_opts;
struct strbuf;

/*
 * Appends the picture of g (after graph_prune()) in `format` to out:
 * "svg", "png", "pdf" (laid out with dot), or "dot" (canonical DOT text:
 * the graph is laid out too, as Graphviz 2.42's writer needs, but the
 * positions and the bounding box are left out, so the text depends on the
 * graph only and not on font metrics; what the golden tests compare).  Returns 0, or -1 with d filled (DIAG_LAYOUT) when Graphviz
 * fails; Graphviz's own message is included.  Output bytes depend only on
 * g, the options and the Graphviz version.  Cost: Graphviz's dot layout,
 * kept bounded by the pruning (graph_prune()'s default budget weighs it)
 * and by capped effort attributes (nslimit, scaled down past 300 boxes;
 * mclimit).
 */
int gv_render(struct strbuf *out, const struct graph *g,
              const struct render_opts *o, const char *format,
              struct diag *d);

/* Wall-clock seconds the last gv_render() spent in gvLayout (for
 * plop-render --stats; never part of an output). */
double gv_layout_seconds(void);

#endif
