/*
 * parse_repr.c: the profile format every plop version writes, the Python
 * repr() of a dict {stack: count} where a stack is a tuple of frames, leaf
 * first, and a frame is the tuple (filename, lineno, funcname):
 *
 *     profile := '{' [entry (',' entry)* [',']] '}'
 *     entry   := stack ':' count
 *     stack   := '(' frame (',' frame)* [','] ')'
 *     frame   := '(' string ',' line ',' string [','] ')'
 *     line    := integer | 'None'          (None, as 3.11+ may give, is 0)
 *     count   := integer
 *     integer := digits ['L' | 'l']        (Python 2 longs)
 *
 * Whitespace (space, tab, newline, CR, form feed) and backslash-newline
 * line joins may appear between any two tokens.  Strings follow Python's
 * literal rules for both dialects: prefixes u, b, r and their pairs (ur,
 * br, rb) in either case, both quote styles, and every escape (\\ \' \"
 * \a \b \f \n \r \t \v, octal, \x, \u, \U, backslash-newline; unknown
 * escapes keep their backslash, as in Python).  \N{NAME} needs the Unicode
 * name database, which the renderer does not carry, and repr() never
 * writes it: it is an error that says so.
 *
 * Bytes versus text: in a string without the u prefix, \x and octal
 * escapes give raw bytes, so Python 2's 'w\xc3\xb6rk' is the UTF-8 of
 * "wörk"; profile_intern() then takes any byte that is not valid UTF-8 as
 * Latin-1, which is exactly what Python 3's repr means by '\x85' (it only
 * escapes U+0080..U+00A0 and U+00AD this way, all lone continuation
 * bytes).  With the u prefix (Python 2 unicode), \xf6 is U+00F6.  A \u
 * surrogate pair (Python 2 narrow builds) is combined; a lone surrogate
 * becomes U+FFFD.  A NUL character is refused: names are C strings.
 *
 * The grammar has a fixed depth (dict, stack, frame), so the parser is a
 * set of loops, not a recursion: no input can exhaust the C stack.  One
 * pass; strings without escapes are handed to profile_intern() as slices
 * of the input, strings with escapes are decoded into a reused scratch
 * buffer, so nothing is allocated per token.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "parse.h"
#include "profile.h"

struct rp {
    struct profile *p;
    const char *name;
    const char *buf;
    size_t len;
    size_t pos;
    struct diag *d;
};

static int
fail(struct rp *r, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct rp *r, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vparse_error(r->d, r->name, r->buf, r->len, off, fmt, ap);
    va_end(ap);
    return -1;
}

/* The error for an unexpected token at r->pos: "unexpected end of input"
 * when the input ended there, else `what`. */
static int
fail_here(struct rp *r, const char *what)
{
    if (r->pos >= r->len) {
        return fail(r, r->len, "unexpected end of input");
    }
    return fail(r, r->pos, "%s", what);
}

static inline void
skip_ws(struct rp *r)
{
    const char *b = r->buf;
    size_t i = r->pos, n = r->len;
    while (i < n) {
        char c = b[i];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f') {
            i++;
        }
        else if (c == '\\' && i + 1 < n && b[i + 1] == '\n') {
            i += 2;
        }
        else if (c == '\\' && i + 2 < n && b[i + 1] == '\r'
                 && b[i + 2] == '\n') {
            i += 3;
        }
        else {
            break;
        }
    }
    r->pos = i;
}

static inline int
peek(const struct rp *r)
{
    return r->pos < r->len ? (unsigned char)r->buf[r->pos] : -1;
}

static inline int
is_ident(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c == '.' || c >= 0x80;
}

static inline int
hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* ---------------------------------------------------------------- integers */

enum int_status { INT_OK, INT_TOO_LARGE, INT_BAD };

/*
 * An unsigned integer at r->pos (digits, then an optional L), at most
 * `max`.  INT_BAD when there are no digits or the number runs on into a
 * float, a name or another base; r->pos is left after the token either
 * way, and *start, *ndigits say where its digits were.
 */
static enum int_status
parse_uint(struct rp *r, uint64_t max, uint64_t *out, size_t *start,
           size_t *ndigits)
{
    const char *b = r->buf;
    size_t i = r->pos, n = r->len;
    uint64_t v = 0;
    int big = 0;
    *start = i;
    while (i < n && b[i] >= '0' && b[i] <= '9') {
        unsigned dg = (unsigned)(b[i] - '0');
        if (!big && v > (max - dg) / 10) {
            big = 1;
        }
        if (!big) {
            v = v * 10 + dg;
        }
        i++;
    }
    *ndigits = i - *start;
    if (*ndigits == 0) {
        return INT_BAD;
    }
    if (i < n && (b[i] == 'L' || b[i] == 'l')) {
        i++;
    }
    r->pos = i;
    if (i < n && is_ident((unsigned char)b[i])) {
        return INT_BAD;
    }
    *out = v;
    return big ? INT_TOO_LARGE : INT_OK;
}

/* "what N is larger than the limit MAX", with N clipped when absurd. */
static int
fail_too_large(struct rp *r, const char *what, size_t start, size_t nd,
               uint64_t max)
{
    if (nd <= 40) {
        return fail(r, start, "%s %.*s is larger than the limit %llu", what,
                    (int)nd, r->buf + start, (unsigned long long)max);
    }
    return fail(r, start, "%s of %zu digits is larger than the limit %llu",
                what, nd, (unsigned long long)max);
}

static int
parse_line(struct rp *r, long *line)
{
    static const char msg[] = "line number must be a non-negative integer";
    int c = peek(r);
    if (c < 0) {
        return fail_here(r, msg);
    }
    if (c == 'N' && r->len - r->pos >= 4
        && memcmp(r->buf + r->pos, "None", 4) == 0
        && (r->pos + 4 == r->len
            || !is_ident((unsigned char)r->buf[r->pos + 4]))) {
        r->pos += 4;
        *line = 0;
        return 0;
    }
    size_t at = r->pos, start, nd;
    uint64_t v;
    switch (parse_uint(r, (uint64_t)PROFILE_MAX_LINE, &v, &start, &nd)) {
    case INT_OK:
        *line = (long)v;
        return 0;
    case INT_TOO_LARGE:
        return fail_too_large(r, "line number", start, nd,
                              (uint64_t)PROFILE_MAX_LINE);
    case INT_BAD:
        break;
    }
    return fail(r, at, "%s", msg);
}

static int
parse_count(struct rp *r, uint64_t *count)
{
    static const char msg[] = "count must be a non-negative integer";
    if (r->pos >= r->len) {
        return fail_here(r, msg);
    }
    size_t at = r->pos, start, nd;
    switch (parse_uint(r, PROFILE_MAX_COUNT, count, &start, &nd)) {
    case INT_OK:
        return 0;
    case INT_TOO_LARGE:
        return fail_too_large(r, "count", start, nd, PROFILE_MAX_COUNT);
    case INT_BAD:
        break;
    }
    return fail(r, at, "%s", msg);
}

/* ---------------------------------------------------------------- strings */

/* Output of a string with escapes: scratch slot `slot` of the profile. */
struct sout {
    struct profile *p;
    int slot;
    char *o;
    size_t len;
    size_t cap;
};

/* Room for 8 more bytes. */
static inline void
sout_reserve(struct sout *s)
{
    if (s->len + 8 > s->cap) {
        s->o = profile_scratch(s->p, s->slot, s->len + 8, s->len);
        s->cap = s->p->scratch_cap[s->slot];
    }
}

static inline void
sout_utf8(struct sout *s, uint32_t cp)
{
    char *o = s->o + s->len;
    if (cp < 0x80) {
        o[0] = (char)cp;
        s->len += 1;
    }
    else if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        s->len += 2;
    }
    else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        s->len += 3;
    }
    else {
        o[0] = (char)(0xf0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        s->len += 4;
    }
}

/* `n` hex digits at b[i..], or -1. */
static long
hex_digits(const struct rp *r, size_t i, int n)
{
    if (i > r->len || r->len - i < (size_t)n) {
        return -1;
    }
    long v = 0;
    for (int k = 0; k < n; k++) {
        int h = hexval((unsigned char)r->buf[i + (size_t)k]);
        if (h < 0) {
            return -1;
        }
        v = v * 16 + h;
    }
    return v;
}

enum { STR_BYTES = 1, STR_RAW = 2, STR_UNICODE = 4 };

/*
 * Decodes the body of a string with escapes, from b[j] (the first byte
 * needing care) to the closing quote `q` opened at `qpos`, into scratch
 * slot `slot`, after the `j - s` plain bytes at b[s..j).
 */
static int
decode_string(struct rp *r, int flags, char q, size_t qpos, size_t s,
              size_t j, int slot, const char **out, size_t *outlen)
{
    const char *b = r->buf;
    size_t n = r->len;
    struct sout so = {r->p, slot, NULL, 0, 0};
    so.o = profile_scratch(r->p, slot, j - s + 64, 0);
    so.cap = r->p->scratch_cap[slot];
    memcpy(so.o, b + s, j - s);
    so.len = j - s;

    for (;;) {
        if (so.len > PROFILE_MAX_STRING) {
            return fail(r, qpos, "string is longer than the limit %u bytes",
                        PROFILE_MAX_STRING);
        }
        if (j >= n) {
            return fail(r, qpos, "unterminated string");
        }
        char c = b[j];
        if (c == q) {
            break;
        }
        if (c == '\n' || c == '\r') {
            return fail(r, qpos, "unterminated string");
        }
        if (c == '\0') {
            return fail(r, j, "string contains a NUL character");
        }
        sout_reserve(&so);
        if (c != '\\') {
            so.o[so.len++] = c;
            j++;
            continue;
        }
        if (j + 1 >= n) {
            return fail(r, qpos, "unterminated string");
        }
        size_t esc = j;
        char e = b[j + 1];
        j += 2;
        if (e == '\0') {
            return fail(r, esc + 1, "string contains a NUL character");
        }
        if (flags & STR_RAW) {
            /* The backslash stays; it only stops the next byte from
             * closing the string or the line. */
            so.o[so.len++] = '\\';
            so.o[so.len++] = e;
            if (e == '\r' && j < n && b[j] == '\n') {
                so.o[so.len++] = '\n';
                j++;
            }
            continue;
        }
        uint32_t v;
        switch (e) {
        case '\n':
            continue;
        case '\r':
            if (j < n && b[j] == '\n') {
                j++;
            }
            continue;
        case '\\':
        case '\'':
        case '"':
            so.o[so.len++] = e;
            continue;
        case 'a':
            so.o[so.len++] = '\a';
            continue;
        case 'b':
            so.o[so.len++] = '\b';
            continue;
        case 'f':
            so.o[so.len++] = '\f';
            continue;
        case 'n':
            so.o[so.len++] = '\n';
            continue;
        case 'r':
            so.o[so.len++] = '\r';
            continue;
        case 't':
            so.o[so.len++] = '\t';
            continue;
        case 'v':
            so.o[so.len++] = '\v';
            continue;
        case '0': case '1': case '2': case '3':
        case '4': case '5': case '6': case '7':
            v = (uint32_t)(e - '0');
            for (int k = 0; k < 2 && j < n && b[j] >= '0' && b[j] <= '7';
                 k++) {
                v = v * 8 + (uint32_t)(b[j++] - '0');
            }
            if (flags & STR_BYTES) {
                v &= 0xff;
            }
            break;
        case 'x': {
            long h = hex_digits(r, j, 2);
            if (h < 0) {
                return fail(r, esc, "invalid \\x escape");
            }
            j += 2;
            v = (uint32_t)h;
            break;
        }
        case 'u':
        case 'U': {
            if (flags & STR_BYTES) {
                so.o[so.len++] = '\\';
                so.o[so.len++] = e;
                continue;
            }
            int nd = e == 'u' ? 4 : 8;
            long h = hex_digits(r, j, nd);
            if (h < 0) {
                return fail(r, esc, e == 'u' ? "invalid \\u escape"
                                             : "invalid \\U escape");
            }
            j += (size_t)nd;
            if (h > 0x10ffff) {
                return fail(r, esc, "\\U escape is beyond U+10FFFF");
            }
            if (h >= 0xd800 && h <= 0xdbff && j + 1 < n && b[j] == '\\'
                && b[j + 1] == 'u') {
                long lo = hex_digits(r, j + 2, 4);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    h = 0x10000 + ((h - 0xd800) << 10) + (lo - 0xdc00);
                    j += 6;
                }
            }
            if (h >= 0xd800 && h <= 0xdfff) {
                h = 0xfffd;
            }
            if (h == 0) {
                return fail(r, esc, "string contains a NUL character");
            }
            sout_utf8(&so, (uint32_t)h);
            continue;
        }
        case 'N':
            if (flags & STR_BYTES) {
                so.o[so.len++] = '\\';
                so.o[so.len++] = e;
                continue;
            }
            return fail(r, esc, "\\N{...} escapes are not supported "
                        "(repr() never writes them; use \\u or \\U)");
        default:
            so.o[so.len++] = '\\';
            so.o[so.len++] = e;
            continue;
        }
        /* \x or octal: a byte, except in Python 2 unicode strings (and
         * for octal values above 0o377) where it is a code point. */
        if (v == 0) {
            return fail(r, esc, "string contains a NUL character");
        }
        if ((flags & STR_UNICODE) || v > 0xff) {
            sout_utf8(&so, v);
        }
        else {
            so.o[so.len++] = (char)v;
        }
    }
    r->pos = j + 1;
    *out = so.o;
    *outlen = so.len;
    return 0;
}

/*
 * The end of the plain run at b[j..n): the first quote `q`, backslash,
 * CR, LF or NUL, or n.  This scan is most of the parse time, so it looks
 * at 16 bytes per step where SSE2 is available.
 */
static inline size_t
scan_plain(const char *b, size_t j, size_t n, char q)
{
#ifdef __SSE2__
    const __m128i vq = _mm_set1_epi8(q);
    const __m128i vbs = _mm_set1_epi8('\\');
    const __m128i vlf = _mm_set1_epi8('\n');
    const __m128i vcr = _mm_set1_epi8('\r');
    const __m128i vz = _mm_setzero_si128();
    while (n - j >= 16) {
        __m128i w = _mm_loadu_si128((const __m128i *)(const void *)(b + j));
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(w, vq), _mm_cmpeq_epi8(w, vbs)),
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, vlf),
                                      _mm_cmpeq_epi8(w, vcr)),
                         _mm_cmpeq_epi8(w, vz)));
        int mask = _mm_movemask_epi8(hit);
        if (mask != 0) {
            return j + (size_t)__builtin_ctz((unsigned)mask);
        }
        j += 16;
    }
#endif
    while (j < n) {
        char c = b[j];
        if (c == q || c == '\\' || c == '\n' || c == '\r' || c == '\0') {
            break;
        }
        j++;
    }
    return j;
}

/*
 * A string literal at r->pos: `*out` points into the input when it has
 * no escapes, else into scratch slot `slot`.  `what` names it in errors.
 */
static int
parse_string(struct rp *r, int slot, const char *what, const char **out,
             size_t *outlen)
{
    const char *b = r->buf;
    size_t n = r->len, i = r->pos;
    int flags = 0;
    for (; i < n && i - r->pos < 2; i++) {
        char c = b[i];
        if ((c == 'u' || c == 'U') && !(flags & (STR_UNICODE | STR_BYTES))) {
            flags |= STR_UNICODE;
        }
        else if ((c == 'b' || c == 'B')
                 && !(flags & (STR_UNICODE | STR_BYTES))) {
            flags |= STR_BYTES;
        }
        else if ((c == 'r' || c == 'R') && !(flags & STR_RAW)) {
            flags |= STR_RAW;
        }
        else {
            break;
        }
    }
    if (i >= n || (b[i] != '\'' && b[i] != '"')) {
        return fail_here(r, what);
    }
    char q = b[i];
    size_t qpos = i, s = i + 1;
    size_t j = scan_plain(b, s, n, q);
    if (j < n && b[j] == q) {
        if (j - s > PROFILE_MAX_STRING) {
            return fail(r, qpos, "string is longer than the limit %u bytes",
                        PROFILE_MAX_STRING);
        }
        *out = b + s;
        *outlen = j - s;
        r->pos = j + 1;
        return 0;
    }
    return decode_string(r, flags, q, qpos, s, j, slot, out, outlen);
}

/* ---------------------------------------------------------------- grammar */

/* One frame tuple at r->pos (which is '('); its id in *id. */
static int
parse_frame(struct rp *r, uint32_t *id)
{
    size_t at = r->pos;
    const char *file, *func;
    size_t flen, fnlen;
    long line = 0;

    r->pos++;
    skip_ws(r);
    if (parse_string(r, 0, "expected a file name string", &file, &flen) < 0) {
        return -1;
    }
    skip_ws(r);
    if (peek(r) != ',') {
        return fail_here(r, "expected ',' after the file name");
    }
    r->pos++;
    skip_ws(r);
    if (parse_line(r, &line) < 0) {
        return -1;
    }
    skip_ws(r);
    if (peek(r) != ',') {
        return fail_here(r, "expected ',' after the line number");
    }
    r->pos++;
    skip_ws(r);
    if (parse_string(r, 1, "expected a function name string", &func,
                     &fnlen) < 0) {
        return -1;
    }
    skip_ws(r);
    if (peek(r) == ',') {
        r->pos++;
        skip_ws(r);
    }
    if (peek(r) != ')') {
        return fail_here(r, "expected ')' to close the frame");
    }
    r->pos++;
    int64_t v = profile_intern(r->p, file, flen, line, func, fnlen);
    if (v < 0) {
        return fail(r, at, "number of distinct frames is larger than the "
                    "limit %u", r->p->max_frames);
    }
    *id = (uint32_t)v;
    return 0;
}

/* One stack tuple at r->pos (which is '('); its frames in r->p->ids. */
static int
parse_stack(struct rp *r, uint32_t *depth_out)
{
    struct profile *p = r->p;
    size_t at = r->pos;
    uint32_t depth = 0;
    uint32_t *ids = p->ids;
    uint32_t cap = p->ids_cap;

    r->pos++;
    skip_ws(r);
    if (peek(r) == ')') {
        return fail(r, at, "stack has no frames");
    }
    for (;;) {
        if (peek(r) != '(') {
            return fail_here(r, "expected '(' to open a frame");
        }
        if (depth == PROFILE_MAX_DEPTH) {
            return fail(r, r->pos, "stack is deeper than the limit %u",
                        (unsigned)PROFILE_MAX_DEPTH);
        }
        if (depth == cap) {
            ids = profile_scratch_ids(p, depth + 1, depth);
            cap = p->ids_cap;
        }
        if (parse_frame(r, &ids[depth]) < 0) {
            return -1;
        }
        depth++;
        skip_ws(r);
        int c = peek(r);
        if (c == ',') {
            r->pos++;
            skip_ws(r);
            if (peek(r) == ')') {
                r->pos++;
                break;
            }
        }
        else if (c == ')') {
            r->pos++;
            break;
        }
        else {
            return fail_here(r, "expected ',' or ')' after a frame");
        }
    }
    *depth_out = depth;
    return 0;
}

int
parse_repr(struct profile *p, const char *name, const char *buf, size_t len,
           struct diag *d)
{
    struct rp r = {p, name, buf, len, 0, d};

    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        r.pos = 3;
    }
    skip_ws(&r);
    if (peek(&r) != '{') {
        return fail_here(&r, "expected '{' to open the profile");
    }
    r.pos++;
    skip_ws(&r);
    if (peek(&r) == '}') {
        r.pos++;
    }
    else {
        for (;;) {
            uint32_t depth = 0;
            uint64_t count;
            if (peek(&r) != '(') {
                return fail_here(&r, "expected '(' to open a stack");
            }
            if (parse_stack(&r, &depth) < 0) {
                return -1;
            }
            skip_ws(&r);
            if (peek(&r) != ':') {
                return fail_here(&r, "expected ':' after the stack");
            }
            r.pos++;
            skip_ws(&r);
            size_t at = r.pos;
            if (parse_count(&r, &count) < 0) {
                return -1;
            }
            if (profile_add_stack(p, p->ids, depth, count) < 0) {
                return fail(&r, at, "total count is larger than the limit "
                            "%llu", (unsigned long long)PROFILE_MAX_TOTAL);
            }
            skip_ws(&r);
            int c = peek(&r);
            if (c == ',') {
                r.pos++;
                skip_ws(&r);
                if (peek(&r) == '}') {
                    r.pos++;
                    break;
                }
            }
            else if (c == '}') {
                r.pos++;
                break;
            }
            else {
                return fail_here(&r, "expected ',' or '}' after count");
            }
        }
    }
    skip_ws(&r);
    if (r.pos < len) {
        return fail(&r, r.pos, "unexpected text after the closing '}'");
    }
    return 0;
}
