/*
 * parse.h: the input parsers (parse_repr.c, parse_collapsed.c).  Each
 * reads one whole input held in memory and adds its frames and stacks to
 * a profile store (profile.h) through profile_intern() and
 * profile_add_stack(); none knows about files, other formats or format
 * detection, which are the loader's (load.h).
 *
 * Contract of every parser: buf[0..len) is the whole input, `name` names
 * it in diagnostics.  Returns 0, or -1 with d filled (DIAG_PARSE,
 * "name:line:col: error: ..." with the source line and a caret); p may
 * then hold part of the input and must not be rendered.  One pass over
 * the input, no allocation per token (the profile's scratch buffers).
 *
 * The binary pprof reader, parse_pprof(), is declared in pprof.h: its
 * diagnostics are one line, "name: error: pprof byte N: ...", as a binary
 * input has no source line to show.
 */
#ifndef PLOP_PARSE_H
#define PLOP_PARSE_H

#include <stddef.h>

#include "diag.h"

struct profile;

/* Python 2/3 repr() of {stack: count} (plop.out), grammar in parse_repr.c. */
int parse_repr(struct profile *p, const char *name, const char *buf,
               size_t len, struct diag *d);

/* Collapsed stacks "root;...;leaf COUNT" (or "... OLD NEW", the
 * differential format, profile_add_pair()), rules in parse_collapsed.c. */
int parse_collapsed(struct profile *p, const char *name, const char *buf,
                    size_t len, struct diag *d);

#endif
