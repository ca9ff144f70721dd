/*
 * text.h: the plain-text summary (-T txt, text.c): the top functions by
 * self and by inclusive samples, like `pprof -top`, for CI logs.
 */
#ifndef PLOP_TEXT_H
#define PLOP_TEXT_H

#include "diag.h"

struct graph;
struct render_opts;
struct strbuf;

/*
 * Appends the report for g (built; pruning is not needed) to out.  Lists
 * at most opts->max_nodes rows per table (0: every function).  Names are
 * printed as they are, except control characters (C0, DEL and C1, e.g.
 * CSI U+009B), which become '?' so a hostile name cannot drive the
 * terminal.  In a comparison (g->diff)
 * the base's total and the largest increases and decreases of self
 * share come first.  Returns 0.  Cost: sorting the nodes two or three
 * times.
 */
int text_write(struct strbuf *out, const struct graph *g,
               const struct render_opts *o, struct diag *d);

#endif
