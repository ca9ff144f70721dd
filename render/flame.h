/*
 * flame.h: the flame graph as a standalone static SVG (flame.c), the
 * output of -T flame.svg and --view flame.  Its frames are the tree of
 * flametree.h, its colours those of present.h, so it matches the call
 * graph and the HTML report's flame view.
 */
#ifndef PLOP_FLAME_H
#define PLOP_FLAME_H

#include "diag.h"
#include "report.h"

struct strbuf;

/*
 * Appends the flame graph (an icicle, callers above callees, 1200 pixels
 * wide) of in->graph to out; in->graph_svg is not read.  The title is
 * in->opts->title, else the first input's base name.  Returns 0 (out of
 * memory is fatal).  Cost: flame_tree_build() with FLAME_SVG_DIVISOR, so
 * the document has at most FLAME_SVG_MAX_NODES frames.
 */
int flame_svg_write(struct strbuf *out, const struct report_input *in,
                    struct diag *d);

#endif
