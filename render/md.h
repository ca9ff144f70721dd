/*
 * md.h: the Markdown summary (-T md, md.c), for a CI job's page: GitHub
 * Actions' step summary ($GITHUB_STEP_SUMMARY), GitLab's job report, a
 * pull-request comment.
 */
#ifndef PLOP_MD_H
#define PLOP_MD_H

#include "diag.h"

struct graph;
struct render_opts;
struct strbuf;

/* At most this many rows per table. */
#define MD_ROWS 10

/*
 * Appends the summary of g (built; pruned or not) to out:
 *   - a heading with the title and a line with the totals (and, in a
 *     comparison, the base side's);
 *   - the budgets of opts (after budget_eval()) as a table: expression,
 *     measured, limit, pass/fail;
 *   - in a comparison, the largest increases and decreases of self share
 *     (changes within noise are left out, see diff.h);
 *   - the top MD_ROWS functions by self and by inclusive samples.
 * Text from the profile is escaped (Markdown's active punctuation gets a
 * backslash, control bytes become '?'), so a function name cannot break
 * a table or inject markup, links or mentions.  Returns 0.
 */
int md_write(struct strbuf *out, const struct graph *g,
             const struct render_opts *o, struct diag *d);

#endif
