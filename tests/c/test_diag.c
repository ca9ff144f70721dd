/*
 * test_diag.c: unit tests of render/diag.c: the parse-error layout
 * (position, clipped source line, caret), the cleaning of the echoed line
 * and the exit codes.
 */
#include <string.h>

#include "check.h"
#include "diag.h"

static struct diag d;

static const char *
perr(const char *buf, size_t off)
{
    memset(&d, 0, sizeof(d));
    diag_parse_error(&d, "p.out", buf, strlen(buf), off, "bad %s", "thing");
    return d.msg;
}

static void
test_position_and_caret(void)
{
    CHECK_STR(perr("abc", 1), "p.out:1:2: error: bad thing\n    abc\n     ^\n");
    CHECK_STR(perr("ab\ncd\r\nef", 4),
              "p.out:2:2: error: bad thing\n    cd\n     ^\n");
    /* At the end of the input: the column after the last byte. */
    CHECK_STR(perr("ab\n", 3), "p.out:2:1: error: bad thing\n    \n    ^\n");
    CHECK_STR(perr("ab", 99), "p.out:1:3: error: bad thing\n    ab\n      ^\n");
    CHECK_EQ_INT(d.kind, DIAG_PARSE);
}

static void
test_clipping(void)
{
    char line[301];
    for (int i = 0; i < 300; i++) {
        line[i] = (char)('a' + i % 26);
    }
    line[300] = '\0';
    perr(line, 150);
    /* 40 bytes before the column, 80 in all, dots on both sides. */
    char want[512];
    char shown[81];
    memcpy(shown, line + 110, 80);
    shown[80] = '\0';
    snprintf(want, sizeof(want), "p.out:1:151: error: bad thing\n    ...%s..."
             "\n%*s^\n", shown, 4 + 3 + 40, "");
    CHECK_STR(d.msg, want);
    /* Near the start: no left dots. */
    perr(line, 3);
    memcpy(shown, line, 80);
    snprintf(want, sizeof(want), "p.out:1:4: error: bad thing\n    %s...\n"
             "%*s^\n", shown, 4 + 3, "");
    CHECK_STR(d.msg, want);
}

static void
test_cleaning(void)
{
    /* Control bytes and invalid UTF-8 show as '?'; valid UTF-8 stays and
     * counts as one column for the caret (the reported column counts
     * bytes). */
    CHECK_STR(perr("a\tb\x01" "c", 4),
              "p.out:1:5: error: bad thing\n    a?b?c\n        ^\n");
    CHECK_STR(perr("w\xc3\xb6rk x", 6),
              "p.out:1:7: error: bad thing\n    w\xc3\xb6rk x\n         ^\n");
    CHECK_STR(perr("\xff\xc3(x", 3),
              "p.out:1:4: error: bad thing\n    ?" "?(x\n       ^\n");
    /* Clipping never cuts a UTF-8 character in two. */
    char line[400];
    size_t o = 0;
    for (int i = 0; i < 100; i++) {
        memcpy(line + o, "\xc3\xb6", 2);
        o += 2;
    }
    line[o] = '\0';
    perr(line, 101);   /* inside a character */
    const char *src = strchr(d.msg, '\n') + 1;
    CHECK(strncmp(src, "    ...\xc3\xb6", 9) == 0);
    const char *end = strstr(src, "...\n");
    CHECK(end != NULL);
    if (end != NULL) {
        CHECK(((unsigned char)end[-2] == 0xc3
               && (unsigned char)end[-1] == 0xb6));
    }
}

static void
test_diag_set_and_exit_codes(void)
{
    diag_set(&d, DIAG_IO, "error: cannot open '%s': %s", "x", "gone");
    CHECK_STR(d.msg, "error: cannot open 'x': gone\n");
    CHECK_EQ_INT(d.kind, DIAG_IO);
    CHECK_EQ_INT(plop_exit_code(DIAG_NONE), 0);
    CHECK_EQ_INT(plop_exit_code(DIAG_USAGE), 2);
    CHECK_EQ_INT(plop_exit_code(DIAG_IO), 3);
    CHECK_EQ_INT(plop_exit_code(DIAG_PARSE), 4);
    CHECK_EQ_INT(plop_exit_code(DIAG_LAYOUT), 5);
}

int
main(void)
{
    RUN(test_position_and_caret);
    RUN(test_clipping);
    RUN(test_cleaning);
    RUN(test_diag_set_and_exit_codes);
    return check_report();
}
