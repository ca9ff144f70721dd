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

#endif
