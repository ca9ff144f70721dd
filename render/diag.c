/*
 * diag.c: filling a struct diag (see diag.h), including the clipped
 * source line and caret of parse errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "utf8.h"

#define DIAG_CLIP 80

void
diag_set(struct diag *d, enum diag_kind kind, const char *fmt, ...)
{
    va_list ap;
    d->kind = kind;
    va_start(ap, fmt);
    int n = vsnprintf(d->msg, sizeof(d->msg) - 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
    }
    size_t len = strlen(d->msg);
    d->msg[len] = '\n';
    d->msg[len + 1] = '\0';
}

/*
 * Appends s[0..n) to d->msg as the terminal should show it: control
 * characters (C0, DEL, C1) and bytes that are not valid UTF-8 become '?',
 * other valid UTF-8 is kept.  Returns the number of characters shown (for the caret).
 */
static size_t
append_clean(struct diag *d, size_t *pos, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t shown = 0;
    for (size_t i = 0; i < n && *pos + 5 < sizeof(d->msg) - 8;) {
        unsigned char c = u[i];
        size_t k = c >= 0x80 ? utf8_valid_len(u + i, n - i) : 1;
        if (c >= 0x80 && k > 0 && utf8_is_control(u + i, k)) {
            d->msg[(*pos)++] = '?';
            i += k;
        }
        else if (c >= 0x80 && k > 0) {
            memcpy(d->msg + *pos, s + i, k);
            *pos += k;
            i += k;
        }
        else {
            d->msg[(*pos)++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
            i++;
        }
        shown++;
    }
    return shown;
}

/* The number of characters append_clean() shows for s[0..n). */
static size_t
shown_width(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t shown = 0;
    for (size_t i = 0; i < n; shown++) {
        size_t k = u[i] >= 0x80 ? utf8_valid_len(u + i, n - i) : 1;
        i += k > 0 ? k : 1;
    }
    return shown;
}

void
diag_vparse_error(struct diag *d, const char *name, const char *buf,
                  size_t len, size_t off, const char *fmt, va_list ap)
{
    if (off > len) {
        off = len;
    }
    size_t line = 1, bol = 0;
    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            line++;
            bol = i + 1;
        }
    }
    size_t eol = off;
    while (eol < len && buf[eol] != '\n' && buf[eol] != '\r') {
        eol++;
    }
    size_t col = off - bol + 1;

    char what[512];
    vsnprintf(what, sizeof(what), fmt, ap);

    d->kind = DIAG_PARSE;
    int n = snprintf(d->msg, sizeof(d->msg), "%s:%zu:%zu: error: %s\n",
                     name, line, col, what);
    size_t pos = (n < 0) ? 0 : (size_t)n;
    if (pos >= sizeof(d->msg) - 16) {
        pos = sizeof(d->msg) - 16;
        memcpy(d->msg + pos, "...\n", 5);
        return;
    }

    /* Clip the line to DIAG_CLIP bytes around the column. */
    size_t from = bol, to = eol;
    int left_dots = 0, right_dots = 0;
    if (to - from > DIAG_CLIP) {
        from = off > bol + DIAG_CLIP / 2 ? off - DIAG_CLIP / 2 : bol;
        to = from + DIAG_CLIP < eol ? from + DIAG_CLIP : eol;
        /* Do not cut a UTF-8 character in two. */
        while (from < off && ((unsigned char)buf[from] & 0xc0) == 0x80) {
            from++;
        }
        while (to > off && to < eol
               && ((unsigned char)buf[to] & 0xc0) == 0x80) {
            to--;
        }
        left_dots = from > bol;
        right_dots = to < eol;
    }
    memcpy(d->msg + pos, "    ", 4);
    pos += 4;
    if (left_dots) {
        memcpy(d->msg + pos, "...", 3);
        pos += 3;
    }
    append_clean(d, &pos, buf + from, to - from);
    if (right_dots) {
        memcpy(d->msg + pos, "...", 3);
        pos += 3;
    }
    d->msg[pos++] = '\n';
    size_t caret = 4 + (left_dots ? 3 : 0) + shown_width(buf + from,
                                                         off - from);
    for (size_t i = 0; i < caret && pos + 3 < sizeof(d->msg); i++) {
        d->msg[pos++] = ' ';
    }
    d->msg[pos++] = '^';
    d->msg[pos++] = '\n';
    d->msg[pos] = '\0';
}

void
diag_parse_error(struct diag *d, const char *name, const char *buf,
                 size_t len, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vparse_error(d, name, buf, len, off, fmt, ap);
    va_end(ap);
}

int
plop_exit_code(enum diag_kind kind)
{
    switch (kind) {
    case DIAG_NONE:
        return PLOP_EXIT_OK;
    case DIAG_USAGE:
        return PLOP_EXIT_USAGE;
    case DIAG_IO:
        return PLOP_EXIT_IO;
    case DIAG_PARSE:
        return PLOP_EXIT_PARSE;
    case DIAG_LAYOUT:
        return PLOP_EXIT_LAYOUT;
    }
    return 1;
}
