/*
 * speedscope.h: the speedscope file format (speedscope.c), which the
 * speedscope viewer imports directly.
 *
 * Format: https://www.speedscope.app/file-format-schema.json (the
 * "sampled" profile type of src/lib/file-format-spec.ts).  plop writes
 *   - shared.frames: one frame per graph node reached by a kept stack,
 *     {name, file, line} (line left out when 0), in node order;
 *   - profiles: one "sampled" profile per input file, named after it,
 *     unit "none", startValue 0 and endValue its total samples; samples
 *     are stacks of frame indices, root first, with their counts as
 *     weights (--focus/--ignore apply);
 *   - name (the title), activeProfileIndex 0, exporter.
 */
#ifndef PLOP_SPEEDSCOPE_H
#define PLOP_SPEEDSCOPE_H

#include <stddef.h>

#include "diag.h"

struct graph;
struct strbuf;

struct speedscope_meta {
    const char *title;              /* the file's name */
    const char *exporter;           /* e.g. "plop-render 0.5.0" */
    const char *const *inputs;      /* one profile per input: its name */
    size_t stack_begin;             /* input 0's first stack */
    const size_t *stack_end;        /* input i holds profile stacks
                                     * [stack_end[i-1], stack_end[i]),
                                     * input 0 [stack_begin, stack_end[0]) */
    int ninputs;
};

/* Appends the JSON document for g (built) to out.  Returns 0.  The same
 * graph gives the same bytes. */
int speedscope_write(struct strbuf *out, const struct graph *g,
                     const struct speedscope_meta *m, struct diag *d);

#endif
