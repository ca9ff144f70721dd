/*
 * strbuf.c: growable byte buffer in the arena (see strbuf.h), with the
 * XML and JSON escapers every output format shares.
 */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "strbuf.h"
#include "utf8.h"

void
strbuf_init(struct strbuf *sb, struct arena *a)
{
    sb->arena = a;
    sb->buf = NULL;
    sb->len = 0;
    sb->cap = 0;
}

void
strbuf_grow(struct strbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->cap) {
        return;
    }
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < sb->len + extra + 1) {
        if (cap > (size_t)-1 / 2) {
            die_nomem(sb->len + extra + 1);
        }
        cap *= 2;
    }
    sb->buf = arena_grow(sb->arena, sb->buf, sb->len, cap, 1);
    sb->cap = cap;
    sb->buf[sb->len] = '\0';
}

void
strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
    strbuf_grow(sb, len);
    if (len > 0) {
        memcpy(sb->buf + sb->len, data, len);
    }
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void
strbuf_addstr(struct strbuf *sb, const char *s)
{
    strbuf_add(sb, s, strlen(s));
}

void
strbuf_addch(struct strbuf *sb, int c)
{
    strbuf_grow(sb, 1);
    sb->buf[sb->len++] = (char)c;
    sb->buf[sb->len] = '\0';
}

void
strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    strbuf_grow(sb, 64);
    int n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, cp);
    va_end(cp);
    if (n < 0) {
        return;
    }
    if ((size_t)n >= sb->cap - sb->len) {
        strbuf_grow(sb, (size_t)n);
        vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
    }
    sb->len += (size_t)n;
}

void
strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_vaddf(sb, fmt, ap);
    va_end(ap);
}

void
strbuf_add_xml(struct strbuf *sb, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default:
            if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n') {
                rep = "?";      /* not allowed in XML 1.0 */
                break;
            }
            continue;
        }
        strbuf_add(sb, s + start, i - start);
        strbuf_addstr(sb, rep);
        start = i + 1;
    }
    strbuf_add(sb, s + start, len - start);
}

void
strbuf_add_json(struct strbuf *sb, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        if (c >= 0x80) {
            size_t n = utf8_valid_len(u + i, len - i);
            if (n == 0) {
                strbuf_addstr(sb, "\\ufffd");
                i++;
            }
            else {
                strbuf_add(sb, u + i, n);
                i += n;
            }
            continue;
        }
        switch (c) {
        case '"': strbuf_addstr(sb, "\\\""); break;
        case '\\': strbuf_addstr(sb, "\\\\"); break;
        case '\n': strbuf_addstr(sb, "\\n"); break;
        case '\t': strbuf_addstr(sb, "\\t"); break;
        case '<': strbuf_addstr(sb, "\\u003c"); break;
        case '>': strbuf_addstr(sb, "\\u003e"); break;
        case '&': strbuf_addstr(sb, "\\u0026"); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                strbuf_addf(sb, "\\u%04x", c);
            }
            else {
                strbuf_addch(sb, c);
            }
        }
        i++;
    }
}
