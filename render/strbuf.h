/*
 * strbuf.h: a growable byte buffer in the arena, where every output
 * format is written before main.c puts it on disk in one go (temp file,
 * then rename), so a failure never leaves a half-written file.
 *
 * Invariant: buf[len] == '\0' once anything was added.  The bytes belong
 * to the arena (see arena.h); nothing is freed by hand.
 */
#ifndef PLOP_STRBUF_H
#define PLOP_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

struct strbuf {
    struct arena *arena;
    char *buf;
    size_t len;
    size_t cap;
};

/* An empty buffer that allocates from `a`. */
void strbuf_init(struct strbuf *sb, struct arena *a);

/* Makes room for `extra` more bytes (plus the NUL).  Amortised O(1). */
void strbuf_grow(struct strbuf *sb, size_t extra);

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);

/* Adds s[0..len) escaped for XML text and attribute values (&<>"'). */
void strbuf_add_xml(struct strbuf *sb, const char *s, size_t len);

/*
 * Adds s[0..len) as the body of a JSON string (no quotes), escaping
 * quotes, backslashes, control bytes, '<', '>' and '&' (as \u003c ...), so
 * the result is safe inside an HTML <script> element.  Invalid UTF-8
 * bytes become U+FFFD.
 */
void strbuf_add_json(struct strbuf *sb, const char *s, size_t len);

#endif
