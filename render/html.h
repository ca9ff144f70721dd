/*
 * html.h: the self-contained interactive HTML report (html.c): the call
 * graph, the flame graph and the tables in one page with its scripts and
 * styles inlined.  Writes into a strbuf; main.c puts the bytes on disk.
 */
#ifndef PLOP_HTML_H
#define PLOP_HTML_H

#include "diag.h"
#include "report.h"

struct strbuf;

/* Writes the HTML page to out (in->graph_svg is required).  Returns 0,
 * or -1 with d filled. */
int html_write(struct strbuf *out, const struct report_input *in,
               struct diag *d);

#endif
