/*
 * budget.c: `--fail-if` budgets (see budget.h for the grammar): a small
 * hand-written parser that tracks the byte offset of every token, so a
 * malformed expression gets diag.h's caret under the bad spot, and an
 * evaluator that measures self and inclusive samples of the functions a
 * regex matches straight from the profile's stacks, per side.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "budget.h"
#include "graph.h"
#include "present.h"
#include "profile.h"

struct bp {
    const char *s;
    size_t len;
    size_t pos;
    struct diag *d;
};

static int
bfail(struct bp *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bfail(struct bp *p, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vparse_error(p->d, "--fail-if", p->s, p->len, off, fmt, ap);
    va_end(ap);
    p->d->kind = DIAG_USAGE;
    return -1;
}

static void
skip_blanks(struct bp *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')) {
        p->pos++;
    }
}

static int
is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The word at p->pos (letters only), consumed; *n is its length. */
static const char *
word(struct bp *p, size_t *n)
{
    size_t st = p->pos;
    while (p->pos < p->len && is_word_char(p->s[p->pos])) {
        p->pos++;
    }
    *n = p->pos - st;
    return p->s + st;
}

static int
word_is(const char *w, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(w, lit, n) == 0;
}

static int
expect(struct bp *p, char c, const char *after)
{
    skip_blanks(p);
    if (p->pos >= p->len || p->s[p->pos] != c) {
        return bfail(p, p->pos, "expected '%c' %s", c, after);
    }
    p->pos++;
    return 0;
}

/* The regex up to the ')' that balances the '(' already read; compiles
 * it into b->re. */
static int
regex_arg(struct bp *p, struct budget *b)
{
    skip_blanks(p);
    size_t st = p->pos;
    int depth = 0;
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == '\\' && p->pos + 1 < p->len) {
            p->pos += 2;
            continue;
        }
        if (c == '(') {
            depth++;
        } else if (c == ')') {
            if (depth == 0) {
                break;
            }
            depth--;
        }
        p->pos++;
    }
    if (p->pos >= p->len) {
        return bfail(p, p->pos, "expected ')' to close the function regex");
    }
    size_t en = p->pos;
    while (en > st && (p->s[en - 1] == ' ' || p->s[en - 1] == '\t')) {
        en--;
    }
    if (en == st) {
        return bfail(p, st, "expected a function regex");
    }
    char *src = malloc(en - st + 1);
    if (src == NULL) {
        die_nomem(en - st + 1);
    }
    memcpy(src, p->s + st, en - st);
    src[en - st] = '\0';
    int rc = regcomp(&b->re, src, REG_EXTENDED | REG_NOSUB);
    free(src);
    if (rc != 0) {
        char why[200];
        regerror(rc, &b->re, why, sizeof(why));
        regfree(&b->re);
        return bfail(p, st, "invalid regex: %s", why);
    }
    b->has_re = 1;
    p->pos++;       /* the ')' */
    return 0;
}

static int
metric(struct bp *p, struct budget *b)
{
    skip_blanks(p);
    size_t st = p->pos, n;
    const char *w = word(p, &n);
    if (word_is(w, n, "total")) {
        b->metric = BUDGET_TOTAL;
        return 0;
    }
    if (word_is(w, n, "self") || word_is(w, n, "incl")) {
        b->metric = w[0] == 's' ? BUDGET_SELF : BUDGET_INCL;
        if (expect(p, '(', "after 'self' or 'incl'") != 0) {
            return -1;
        }
        return regex_arg(p, b);
    }
    if (word_is(w, n, "grow")) {
        if (expect(p, '(', "after 'grow'") != 0) {
            return -1;
        }
        skip_blanks(p);
        size_t ks = p->pos, kn;
        const char *k = word(p, &kn);
        if (word_is(k, kn, "self")) {
            b->metric = BUDGET_GROW_SELF;
        } else if (word_is(k, kn, "incl")) {
            b->metric = BUDGET_GROW_INCL;
        } else {
            return bfail(p, ks, "expected 'self' or 'incl' as grow's first "
                         "argument");
        }
        if (expect(p, ',', "after grow's first argument") != 0) {
            return -1;
        }
        return regex_arg(p, b);
    }
    return bfail(p, st, "expected 'total', 'self(REGEX)', 'incl(REGEX)' or "
                 "'grow(self|incl, REGEX)'");
}

static int
comparison(struct bp *p, struct budget *b)
{
    skip_blanks(p);
    char c = p->pos < p->len ? p->s[p->pos] : '\0';
    if (c != '>' && c != '<') {
        return bfail(p, p->pos, "expected '>', '>=', '<' or '<='");
    }
    p->pos++;
    int eq = p->pos < p->len && p->s[p->pos] == '=';
    p->pos += (size_t)eq;
    b->op = c == '>' ? (eq ? BUDGET_GE : BUDGET_GT)
                     : (eq ? BUDGET_LE : BUDGET_LT);
    return 0;
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
number(struct bp *p, struct budget *b)
{
    skip_blanks(p);
    size_t st = p->pos, i = st;
    if (i < p->len && p->s[i] == '-') {
        i++;
    }
    size_t ds = i;
    while (i < p->len && is_digit(p->s[i])) {
        i++;
    }
    if (i == ds) {
        return bfail(p, st, "expected a number");
    }
    if (i < p->len && p->s[i] == '.') {
        size_t fs = ++i;
        while (i < p->len && is_digit(p->s[i])) {
            i++;
        }
        if (i == fs) {
            return bfail(p, i, "expected digits after '.'");
        }
    }
    if (i - st > 30) {
        return bfail(p, st, "number is longer than 30 characters");
    }
    char tmp[32];
    memcpy(tmp, p->s + st, i - st);
    tmp[i - st] = '\0';
    b->limit = strtod(tmp, NULL);
    b->limit_text = p->s + st;
    b->limit_len = i - st;
    p->pos = i;
    skip_blanks(p);
    if (p->pos < p->len && p->s[p->pos] == '%') {
        if (b->metric == BUDGET_TOTAL) {
            return bfail(p, p->pos, "'total' is a number of samples, not a "
                         "share: drop the '%%'");
        }
        if (b->metric == BUDGET_GROW_SELF || b->metric == BUDGET_GROW_INCL) {
            return bfail(p, p->pos, "grow() is measured in points of share "
                         "(or samples): drop the '%%'");
        }
        b->percent = 1;
        p->pos++;
    }
    return 0;
}

int
budget_parse(struct budget *b, const char *text, struct diag *d)
{
    memset(b, 0, sizeof(*b));
    b->text = text;
    struct bp p = {text, strlen(text), 0, d};
    if (metric(&p, b) != 0 || comparison(&p, b) != 0 || number(&p, b) != 0) {
        budget_release(b);
        return -1;
    }
    skip_blanks(&p);
    if (p.pos < p.len) {
        budget_release(b);
        return bfail(&p, p.pos, "unexpected '%c' after the limit",
                     p.s[p.pos]);
    }
    return 0;
}

void
budget_release(struct budget *b)
{
    if (b->has_re) {
        regfree(&b->re);
        b->has_re = 0;
    }
}

/* ------------------------------------------------------------ evaluation */

/* Whether the regex matches the frame's function, file, or "file:func". */
static int
frame_matches(const regex_t *re, const struct frame *f, char **buf,
              size_t *cap)
{
    if (regexec(re, f->func, 0, NULL, 0) == 0
        || regexec(re, f->file, 0, NULL, 0) == 0) {
        return 1;
    }
    size_t need = (size_t)f->file_len + f->func_len + 2;
    if (need > *cap) {
        *cap = need * 2;
        free(*buf);
        *buf = malloc(*cap);
        if (*buf == NULL) {
            die_nomem(*cap);
        }
    }
    memcpy(*buf, f->file, f->file_len);
    (*buf)[f->file_len] = ':';
    memcpy(*buf + f->file_len + 1, f->func, f->func_len);
    (*buf)[need - 1] = '\0';
    return regexec(re, *buf, 0, NULL, 0) == 0;
}

static int
compare(double v, enum budget_op op, double limit)
{
    switch (op) {
    case BUDGET_GT:
        return v > limit;
    case BUDGET_GE:
        return v >= limit;
    case BUDGET_LT:
        return v < limit;
    case BUDGET_LE:
        return v <= limit;
    }
    return 0;
}

int
budget_eval(struct budget *b, struct arena *a, const struct budget_scope *s,
            struct diag *d)
{
    const struct profile *p = s->prof;
    int grow = b->metric == BUDGET_GROW_SELF || b->metric == BUDGET_GROW_INCL;
    if (grow && !s->diff) {
        diag_set(d, DIAG_USAGE, "error: --fail-if '%s' compares with a base "
                 "profile: give one with --base", b->text);
        return -1;
    }
    unsigned char *match = NULL;
    if (b->has_re) {
        match = arena_alloc(a, p->nframes ? p->nframes : 1);
        char *buf = NULL;
        size_t cap = 0;
        for (uint32_t i = 0; i < p->nframes; i++) {
            match[i] = (unsigned char)frame_matches(&b->re, &p->frames[i],
                                                    &buf, &cap);
        }
        free(buf);
    }
    /* [side]: samples of all kept stacks, of those whose leaf matches,
     * of those with a match anywhere. */
    uint64_t total[2] = {0, 0}, self[2] = {0, 0}, incl[2] = {0, 0};
    for (size_t i = 0; i < p->nstacks; i++) {
        if (s->stack_kept != NULL && !s->stack_kept[i]) {
            continue;
        }
        const struct stack *st = &p->stacks[i];
        uint32_t side = st->side;
        total[side] += st->count;
        if (match == NULL) {
            continue;
        }
        if (match[st->frames[0]]) {
            self[side] += st->count;
        }
        for (uint32_t k = 0; k < st->depth; k++) {
            if (match[st->frames[k]]) {
                incl[side] += st->count;
                break;
            }
        }
    }
    const uint32_t N = PROFILE_SIDE_NEW, B = PROFILE_SIDE_BASE;
    double v = 0;
    switch (b->metric) {
    case BUDGET_TOTAL:
        v = (double)total[N];
        break;
    case BUDGET_SELF:
    case BUDGET_INCL: {
        uint64_t c = b->metric == BUDGET_SELF ? self[N] : incl[N];
        v = !b->percent ? (double)c
            : total[N] ? 100.0 * (double)c / (double)total[N] : 0.0;
        break;
    }
    case BUDGET_GROW_SELF:
    case BUDGET_GROW_INCL: {
        const uint64_t *c = b->metric == BUDGET_GROW_SELF ? self : incl;
        if (s->mode == RENDER_DIFF_ABSOLUTE) {
            v = (double)c[N] - (double)c[B];
        } else {
            double nv = total[N] ? 100.0 * (double)c[N] / (double)total[N]
                                 : 0.0;
            double bv = total[B] ? 100.0 * (double)c[B] / (double)total[B]
                                 : 0.0;
            v = nv - bv;
        }
        break;
    }
    }
    b->absolute = s->mode == RENDER_DIFF_ABSOLUTE;
    b->value = v;
    b->broken = compare(v, b->op, b->limit);
    return 0;
}

const char *
budget_unit(const struct budget *b)
{
    if (b->percent) {
        return "%";
    }
    if (b->metric == BUDGET_GROW_SELF || b->metric == BUDGET_GROW_INCL) {
        return b->absolute ? "samples" : "points";
    }
    return "samples";
}

void
budget_format_value(const struct budget *b, double v, char *buf, size_t n)
{
    const char *unit = budget_unit(b);
    if (strcmp(unit, "samples") == 0) {
        char c[32];
        double m = v < 0 ? -v : v;
        present_count(m < 1e19 ? (uint64_t)(m + 0.5) : UINT64_MAX, c);
        snprintf(buf, n, "%s%s", v < 0 ? "-" : "", c);
    } else if (strcmp(unit, "points") == 0) {
        snprintf(buf, n, "%+.2f", v);
    } else {
        snprintf(buf, n, "%.2f", v);
    }
}

void
budget_describe(const struct budget *b, char *buf, size_t n)
{
    const char *unit = budget_unit(b);
    char v[48];
    budget_format_value(b, b->value, v, sizeof(v));
    snprintf(buf, n, "measured %s %s, limit %.*s %s", v, unit,
             (int)b->limit_len, b->limit_text, unit);
}
