/*
 * parse_collapsed.c: collapsed stacks, one stack per line, root first:
 *
 *     root;caller;...;leaf COUNT
 *
 * as written by `plop.collector -f flamegraph`, py-spy `-f raw` and
 * flamegraph.pl's stackcollapse-* tools.  The count is the last
 * blank-separated token of the line and must be a non-negative integer;
 * the frames are the rest, split on ';'.  A frame of the form
 * `func (file:line)` (plop, py-spy) keeps its file and line; any other
 * frame is a function name alone, with file "" and line 0 (plop 0.4's
 * stray `None 1` line is accepted as written: one frame named "None").
 * A frame that is empty or only blanks (perf captures have them, e.g.
 * `...;write0_[j];  3`) is a function with the empty name, wherever it
 * is, as flamegraph.pl draws it.  Annotations such as `_[k]` stay part of
 * the name here (graph.h strips them for display).
 *
 * A line with two counts, `root;...;leaf OLD NEW`, is the differential
 * format of flamegraph.pl's difffolded.pl: OLD goes to the base side of a
 * comparison and NEW to the new side (profile_add_pair()).  As in
 * flamegraph.pl, two numbers at the end of a line are always two counts.
 * Blank lines are skipped; CRLF line ends, a UTF-8 byte order mark and
 * blanks around the line are fine.  Profile stacks are stored leaf first,
 * so each line's frame ids are reversed before they are added.
 *
 * One pass over the input; frames are interned from slices of the input,
 * their ids collected in the profile's reused scratch array.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "profile.h"

struct cp {
    struct profile *p;
    const char *name;
    const char *buf;
    size_t len;
    struct diag *d;
};

static int
fail(struct cp *c, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct cp *c, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vparse_error(c->d, c->name, c->buf, c->len, off, fmt, ap);
    va_end(ap);
    return -1;
}

static inline int
is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

static inline int
is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* The digits b[from..to) as a number at most `max`; -1 when larger. */
static int
digits_value(const char *b, size_t from, size_t to, uint64_t max,
             uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = from; i < to; i++) {
        unsigned dg = (unsigned)(b[i] - '0');
        if (v > (max - dg) / 10) {
            return -1;
        }
        v = v * 10 + dg;
    }
    *out = v;
    return 0;
}

static int
fail_too_large(struct cp *c, const char *what, size_t from, size_t to,
               uint64_t max)
{
    size_t nd = to - from;
    if (nd <= 40) {
        return fail(c, from, "%s %.*s is larger than the limit %llu", what,
                    (int)nd, c->buf + from, (unsigned long long)max);
    }
    return fail(c, from, "%s of %zu digits is larger than the limit %llu",
                what, nd, (unsigned long long)max);
}

/* The frame b[fs..fe) (no ';'; empty or blank: the empty name),
 * interned into *id. */
static int
parse_frame(struct cp *c, size_t fs, size_t fe, uint32_t *id)
{
    const char *b = c->buf;
    size_t blank = fs;
    while (blank < fe && is_blank(b[blank])) {
        blank++;
    }
    if (blank == fe) {
        fe = fs;
    }
    size_t n = fe - fs;
    const char *file = "";
    size_t flen = 0;
    const char *func = b + fs;
    size_t fnlen = n;
    long line = 0;

    if (memchr(b + fs, '\0', n) != NULL) {
        return fail(c, (size_t)((const char *)memchr(b + fs, '\0', n) - b),
                    "frame name contains a NUL byte");
    }
    if (n > PROFILE_MAX_STRING) {
        return fail(c, fs, "frame name is longer than the limit %u bytes",
                    PROFILE_MAX_STRING);
    }
    /* func (file:line): the first " (" ends the function name, since
     * Python function names never contain one but paths may. */
    const char *open = NULL;
    if (n >= 6 && b[fe - 1] == ')') {
        const char *q = b + fs + 1;
        const char *last = b + fe - 1;
        while (q < last && (q = memchr(q, '(', (size_t)(last - q))) != NULL) {
            if (q[-1] == ' ') {
                open = q - 1;
                break;
            }
            q++;
        }
    }
    if (open != NULL && open > b + fs) {
        size_t is = (size_t)(open - b) + 2;  /* inside the parentheses */
        size_t ie = fe - 1;
        size_t k = ie;
        while (k > is && is_digit(b[k - 1])) {
            k--;
        }
        if (k < ie && k > is + 1 && b[k - 1] == ':') {
            uint64_t v;
            if (digits_value(b, k, ie, (uint64_t)PROFILE_MAX_LINE, &v) < 0) {
                return fail_too_large(c, "line number", k, ie,
                                      (uint64_t)PROFILE_MAX_LINE);
            }
            func = b + fs;
            fnlen = (size_t)(open - (b + fs));
            file = b + is;
            flen = k - 1 - is;
            line = (long)v;
        }
    }
    int64_t v = profile_intern(c->p, file, flen, line, func, fnlen);
    if (v < 0) {
        return fail(c, fs, "number of distinct frames is larger than the "
                    "limit %u", c->p->max_frames);
    }
    *id = (uint32_t)v;
    return 0;
}

/* One non-blank line b[st..end), trimmed of blanks at both ends. */
static int
parse_line(struct cp *c, size_t st, size_t end)
{
    struct profile *p = c->p;
    const char *b = c->buf;

    size_t k = end;
    while (k > st && !is_blank(b[k - 1])) {
        k--;
    }
    size_t d = k;
    while (d < end && is_digit(b[d])) {
        d++;
    }
    if (k == st) {
        if (d == end) {
            return fail(c, st, "expected a stack before the count");
        }
        return fail(c, end, "expected a count at the end of the line");
    }
    if (d != end) {
        /* A last word that does not even look like a number is a line
         * without a count (the frame names may contain blanks). */
        char c0 = b[k];
        if (is_digit(c0) || c0 == '-' || c0 == '+' || c0 == '.') {
            return fail(c, k, "count must be a non-negative integer");
        }
        return fail(c, end, "expected a count at the end of the line");
    }
    uint64_t count;
    if (digits_value(b, k, end, PROFILE_MAX_COUNT, &count) < 0) {
        return fail_too_large(c, "count", k, end, PROFILE_MAX_COUNT);
    }
    size_t se = k;
    while (se > st && is_blank(b[se - 1])) {
        se--;
    }
    /* A second number before the count: a differential line. */
    size_t k0 = se;
    while (k0 > st && is_digit(b[k0 - 1])) {
        k0--;
    }
    int pair = k0 < se && k0 > st && is_blank(b[k0 - 1]);
    uint64_t count_base = 0;
    if (pair) {
        if (digits_value(b, k0, se, PROFILE_MAX_COUNT, &count_base) < 0) {
            return fail_too_large(c, "count", k0, se, PROFILE_MAX_COUNT);
        }
        se = k0;
        while (se > st && is_blank(b[se - 1])) {
            se--;
        }
    }

    uint32_t depth = 0;
    uint32_t *ids = p->ids;
    uint32_t cap = p->ids_cap;
    size_t fs = st;
    for (;;) {
        const char *semi = memchr(b + fs, ';', se - fs);
        size_t fe = semi ? (size_t)(semi - b) : se;
        if (depth == PROFILE_MAX_DEPTH) {
            return fail(c, fs, "stack is deeper than the limit %u",
                        (unsigned)PROFILE_MAX_DEPTH);
        }
        if (depth == cap) {
            ids = profile_scratch_ids(p, depth + 1, depth);
            cap = p->ids_cap;
        }
        if (parse_frame(c, fs, fe, &ids[depth]) < 0) {
            return -1;
        }
        depth++;
        if (semi == NULL) {
            break;
        }
        fs = fe + 1;
    }
    for (uint32_t i = 0, j = depth - 1; i < j; i++, j--) {
        uint32_t t = ids[i];
        ids[i] = ids[j];
        ids[j] = t;
    }
    if ((pair ? profile_add_pair(p, ids, depth, count_base, count)
              : profile_add_stack(p, ids, depth, count)) < 0) {
        return fail(c, k, "total count is larger than the limit %llu",
                    (unsigned long long)PROFILE_MAX_TOTAL);
    }
    return 0;
}

int
parse_collapsed(struct profile *p, const char *name, const char *buf,
                size_t len, struct diag *d)
{
    struct cp c = {p, name, buf, len, d};
    size_t bol = 0;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        bol = 3;
    }
    while (bol < len) {
        const char *nl = memchr(buf + bol, '\n', len - bol);
        size_t eol = nl ? (size_t)(nl - buf) : len;
        size_t end = eol;
        if (end > bol && buf[end - 1] == '\r') {
            end--;
        }
        while (end > bol && is_blank(buf[end - 1])) {
            end--;
        }
        size_t st = bol;
        while (st < end && is_blank(buf[st])) {
            st++;
        }
        if (st < end && parse_line(&c, st, end) < 0) {
            return -1;
        }
        bol = eol + 1;
    }
    return 0;
}
