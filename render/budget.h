/*
 * budget.h: performance budgets for CI, `--fail-if EXPR` (budget.c).
 *
 * Grammar (blanks allowed between tokens):
 *
 *     EXPR   := METRIC OP NUMBER ['%']
 *     METRIC := 'total'
 *             | 'self' '(' REGEX ')' | 'incl' '(' REGEX ')'
 *             | 'grow' '(' ('self' | 'incl') ',' REGEX ')'
 *     OP     := '>' | '>=' | '<' | '<='
 *     NUMBER := ['-'] DIGITS ['.' DIGITS]
 *
 * A budget is broken when the measured value satisfies the comparison:
 * `--fail-if 'self(json)>15%'` breaks when json's self share is above
 * 15 %.  What is measured, over the stacks kept by --focus/--ignore:
 *
 *   total          samples (of the new side in a comparison); no '%'
 *   self(R)        samples whose running function matches R; with '%'
 *                  as a share of total in percent, else in samples
 *   incl(R)        samples with a matching function anywhere on the
 *                  stack (each sample once, however often it matches)
 *   grow(K, R)     needs a comparison (--base or a two-count file): new
 *                  minus base of K(R), in points of share (each side
 *                  divided by its own total) or, with --diff-mode
 *                  absolute, in samples; no '%'
 *
 * REGEX is a POSIX extended regex, as --focus: a frame matches when it
 * matches the function name, the file name, or "file:function".  It
 * ends at the ')' that balances the '(' before it; a backslash escapes
 * the next character.
 *
 * Ownership: a struct budget points into the EXPR text it was parsed
 * from (argv) and owns a compiled regex, released by budget_release().
 */
#ifndef PLOP_BUDGET_H
#define PLOP_BUDGET_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "opts.h"

struct arena;
struct profile;

enum budget_metric {
    BUDGET_TOTAL,
    BUDGET_SELF,
    BUDGET_INCL,
    BUDGET_GROW_SELF,
    BUDGET_GROW_INCL
};

enum budget_op { BUDGET_GT, BUDGET_GE, BUDGET_LT, BUDGET_LE };

struct budget {
    const char *text;           /* the EXPR as given */
    enum budget_metric metric;
    enum budget_op op;
    double limit;
    const char *limit_text;     /* the NUMBER as written (points into
                                 * text), limit_len bytes */
    size_t limit_len;
    int percent;                /* NUMBER was followed by '%' */
    regex_t re;
    int has_re;

    /* ---- filled by budget_eval() ---- */
    double value;               /* measured, in the unit of the limit */
    int absolute;               /* measured with --diff-mode absolute */
    int broken;
};

/*
 * Parses `text` (NUL-terminated) into b.  Returns 0, or -1 with d filled
 * (DIAG_USAGE): "--fail-if:1:C: error: <what>", the expression and a
 * caret under the bad spot (diag.h's layout).  Nothing to release on
 * failure.
 */
int budget_parse(struct budget *b, const char *text, struct diag *d);

/* Frees the compiled regex; b may be parsed or not (has_re says). */
void budget_release(struct budget *b);

/* The stacks a budget is measured over. */
struct budget_scope {
    const struct profile *prof;
    const unsigned char *stack_kept;    /* per stack; NULL: every stack */
    int diff;                           /* a comparison (two sides) */
    enum render_diff_mode mode;
};

/*
 * Measures b over the scope and sets b->value and b->broken.  Returns 0,
 * or -1 with d filled (DIAG_USAGE) when b is a grow() budget and the
 * scope is no comparison.  Scratch memory comes from `a`.  Cost: the
 * regex once per distinct frame (three strings), then one pass over the
 * frames of the kept stacks.
 */
int budget_eval(struct budget *b, struct arena *a,
                const struct budget_scope *s, struct diag *d);

/*
 * The measured value and the limit as one phrase, e.g.
 * "measured 17.32 %, limit 15 %" or "measured 812 samples, limit 1000
 * samples", into buf of size n.
 */
void budget_describe(const struct budget *b, char *buf, size_t n);

/* v in b's unit as budget_describe() writes it: "17.32" (%), "+4.10"
 * (points) or "1,204" (samples), into buf of size n. */
void budget_format_value(const struct budget *b, double v, char *buf,
                         size_t n);

/* The unit of b's numbers: "%", "points" or "samples" (after
 * budget_eval(): grow() is in samples with --diff-mode absolute). */
const char *budget_unit(const struct budget *b);

#endif
