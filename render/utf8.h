/*
 * utf8.h: UTF-8 validation shared by the parsers (names are stored as
 * valid UTF-8) and every writer (XML, JSON, DOT, diagnostics).
 */
#ifndef PLOP_UTF8_H
#define PLOP_UTF8_H

#include <stddef.h>

/*
 * The length (1 to 4) of the valid UTF-8 sequence that starts s[0..n),
 * n >= 1, or 0 when it is not one: overlong forms, surrogates, code points
 * above U+10FFFF and truncated sequences are invalid.  An ASCII byte is 1.
 */
size_t utf8_valid_len(const unsigned char *s, size_t n);

/*
 * Whether the valid sequence s[0..k) (k from utf8_valid_len()) is a
 * control character a terminal obeys: C0 (U+0000-U+001F), DEL, or C1
 * (U+0080-U+009F, e.g. CSI), which -T txt and diagnostics show as '?'.
 */
static inline int
utf8_is_control(const unsigned char *s, size_t k)
{
    return (k == 1 && (s[0] < 0x20 || s[0] == 0x7f))
        || (k == 2 && s[0] == 0xc2 && s[1] < 0xa0);
}

#endif
