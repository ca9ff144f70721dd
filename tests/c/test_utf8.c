/*
 * test_utf8.c: utf8_valid_len() at the edges of Unicode's table of
 * well-formed sequences: ASCII, each length, overlongs, surrogates, past
 * U+10FFFF, truncated and stray continuation bytes.
 */
#include "check.h"
#include "utf8.h"

static size_t
len_of(const char *s)
{
    return utf8_valid_len((const unsigned char *)s, strlen(s));
}

static void
test_valid(void)
{
    CHECK_EQ_INT(len_of("a"), 1);
    CHECK_EQ_INT(len_of("\xc3\xb6rk"), 2);              /* U+00F6 */
    CHECK_EQ_INT(len_of("\xe2\x82\xac"), 3);            /* U+20AC */
    CHECK_EQ_INT(len_of("\xed\x9f\xbf"), 3);            /* U+D7FF */
    CHECK_EQ_INT(len_of("\xee\x80\x80"), 3);            /* U+E000 */
    CHECK_EQ_INT(len_of("\xf0\x90\x80\x80"), 4);        /* U+10000 */
    CHECK_EQ_INT(len_of("\xf4\x8f\xbf\xbf"), 4);        /* U+10FFFF */
}

static void
test_invalid(void)
{
    CHECK_EQ_INT(len_of("\x80"), 0);                    /* continuation */
    CHECK_EQ_INT(len_of("\xc0\xaf"), 0);                /* overlong '/' */
    CHECK_EQ_INT(len_of("\xc1\xbf"), 0);
    CHECK_EQ_INT(len_of("\xe0\x9f\xbf"), 0);            /* overlong */
    CHECK_EQ_INT(len_of("\xed\xa0\x80"), 0);            /* U+D800 */
    CHECK_EQ_INT(len_of("\xf0\x8f\xbf\xbf"), 0);        /* overlong */
    CHECK_EQ_INT(len_of("\xf4\x90\x80\x80"), 0);        /* U+110000 */
    CHECK_EQ_INT(len_of("\xf5\x80\x80\x80"), 0);
    CHECK_EQ_INT(len_of("\xc3"), 0);                    /* truncated */
    CHECK_EQ_INT(len_of("\xe2\x82"), 0);
    CHECK_EQ_INT(len_of("\xe2\x82x"), 0);
    CHECK_EQ_INT(len_of("\xff"), 0);
}

int
main(void)
{
    RUN(test_valid);
    RUN(test_invalid);
    return check_report();
}
