/*
 * test_parse.c: unit tests of the profile store and both input parsers
 * (render/profile.c, parse_repr.c, parse_collapsed.c, load.c): the Python
 * 2 and 3 repr() dialects with every escape, collapsed stacks, the real
 * fixtures, and every error path with its exact message.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "check.h"
#include "load.h"
#include "parse.h"
#include "profile.h"

static struct arena *arena;
static struct profile prof;
static struct diag diag;

static void
reset(void)
{
    arena_free(arena);
    arena = arena_new();
    profile_init(&prof, arena);
    memset(&diag, 0, sizeof(diag));
}

static int
parse_n(const char *s, size_t n)
{
    reset();
    return load_buffer(&prof, "t", s, n, 0, &diag);
}

static int
parse(const char *s)
{
    return parse_n(s, strlen(s));
}

/* The first line of the diagnostic, without its newline. */
static const char *
err_line(void)
{
    static char line[1024];
    const char *nl = strchr(diag.msg, '\n');
    size_t n = nl ? (size_t)(nl - diag.msg) : strlen(diag.msg);
    memcpy(line, diag.msg, n);
    line[n] = '\0';
    return line;
}

/* Stack i as "func@file:line<func@file:line ... *count", leaf first. */
static const char *
stack_str(size_t i)
{
    static char out[4096];
    size_t o = 0;
    if (i >= prof.nstacks) {
        return "(no such stack)";
    }
    const struct stack *s = &prof.stacks[i];
    for (uint32_t k = 0; k < s->depth && o < sizeof(out) - 200; k++) {
        const struct frame *f = &prof.frames[s->frames[k]];
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s@%s:%ld",
                              k ? "<" : "", f->func, f->file, f->line);
    }
    snprintf(out + o, sizeof(out) - o, " *%llu",
             (unsigned long long)s->count);
    return out;
}

/* The file name of the first frame of `src`, a one-frame repr profile
 * template with the file literal in it, or "(error: ...)". */
static const char *
file_of(const char *lit)
{
    static char src[512];
    static char out[512];
    snprintf(src, sizeof(src), "{((%s, 1, 'f'),): 1}", lit);
    if (parse(src) < 0) {
        snprintf(out, sizeof(out), "(error: %s)", err_line());
        return out;
    }
    return prof.frames[prof.stacks[0].frames[0]].file;
}

#define CHECK_ERR(src, expected)                                           \
    do {                                                                   \
        CHECK_EQ_INT(parse(src), -1);                                      \
        CHECK_EQ_INT(diag.kind, DIAG_PARSE);                               \
        CHECK_STR(err_line(), expected);                                   \
    } while (0)

/* ---------------------------------------------------------------- repr */

static void
test_repr_basic(void)
{
    CHECK_EQ_INT(parse("{(('a.py', 3, 'f'), ('b.py', 7, 'g')): 5, "
                       "(('a.py', 3, 'f'),): 2}"), 0);
    CHECK_EQ_INT(prof.nstacks, 2);
    CHECK_EQ_INT(prof.nframes, 2);
    CHECK_EQ_INT(prof.total, 7);
    CHECK_EQ_INT(prof.max_depth, 2);
    CHECK_EQ_INT(prof.ninputs, 1);
    CHECK_STR(stack_str(0), "f@a.py:3<g@b.py:7 *5");
    CHECK_STR(stack_str(1), "f@a.py:3 *2");
    CHECK_EQ_INT(prof.frames[0].file_len, 4);
    CHECK_EQ_INT(prof.frames[0].func_len, 1);
}

static void
test_repr_empty_and_whitespace(void)
{
    CHECK_EQ_INT(parse("{}"), 0);
    CHECK_EQ_INT(prof.nstacks, 0);
    CHECK_EQ_INT(parse("  \n{ \n }\n\n"), 0);
    CHECK_EQ_INT(parse("\xef\xbb\xbf{}"), 0);
    CHECK_EQ_INT(parse("\n\t{\r\n(\n(\n'a'\n,\n1\n,\n'f'\n)\n,\n)\n:\n1\n,"
                       "\n}\n"), 0);
    CHECK_STR(stack_str(0), "f@a:1 *1");
    /* Backslash-newline joins lines between tokens too. */
    CHECK_EQ_INT(parse("{(('a', 1, 'f'),):\\\n 1}"), 0);
    CHECK_EQ_INT(parse("{(('a', 1, 'f'),):\\\r\n 1}"), 0);
    /* Trailing commas everywhere Python allows them. */
    CHECK_EQ_INT(parse("{(('a', 1, 'f',),): 1,}"), 0);
    CHECK_STR(stack_str(0), "f@a:1 *1");
    /* A frame in parentheses without the one-tuple comma. */
    CHECK_EQ_INT(parse("{(('a', 1, 'f')): 4}"), 0);
    CHECK_STR(stack_str(0), "f@a:1 *4");
}

static void
test_repr_integers(void)
{
    CHECK_EQ_INT(parse("{(('a', 10L, 'f'),): 123L}"), 0);
    CHECK_STR(stack_str(0), "f@a:10 *123");
    CHECK_EQ_INT(parse("{(('a', 0, 'f'),): 7l}"), 0);
    CHECK_STR(stack_str(0), "f@a:0 *7");
    CHECK_EQ_INT(parse("{(('a', None, 'f'),): 1}"), 0);
    CHECK_STR(stack_str(0), "f@a:0 *1");
    CHECK_EQ_INT(parse("{(('a', 2147483647, 'f'),): 1000000000000000}"), 0);
    CHECK_STR(stack_str(0), "f@a:2147483647 *1000000000000000");
    /* Count 0 is valid and dropped. */
    CHECK_EQ_INT(parse("{(('a', 1, 'f'),): 0, (('b', 1, 'g'),): 2}"), 0);
    CHECK_EQ_INT(prof.nstacks, 1);
    CHECK_EQ_INT(prof.total, 2);
    /* Duplicated keys add up in the total, kept as two stacks. */
    CHECK_EQ_INT(parse("{(('a', 1, 'f'),): 1, (('a', 1, 'f'),): 2}"), 0);
    CHECK_EQ_INT(prof.nstacks, 2);
    CHECK_EQ_INT(prof.nframes, 1);
    CHECK_EQ_INT(prof.total, 3);
}

static void
test_repr_prefixes_and_quotes(void)
{
    CHECK_STR(file_of("'a'"), "a");
    CHECK_STR(file_of("\"a'b\""), "a'b");
    CHECK_STR(file_of("'a\"b'"), "a\"b");
    CHECK_STR(file_of("u'a'"), "a");
    CHECK_STR(file_of("U\"a\""), "a");
    CHECK_STR(file_of("b'a'"), "a");
    CHECK_STR(file_of("B'a'"), "a");
    CHECK_STR(file_of("r'a\\b'"), "a\\b");
    CHECK_STR(file_of("R'a\\'b'"), "a\\'b");
    CHECK_STR(file_of("br'\\x41'"), "\\x41");
    CHECK_STR(file_of("Rb'\\x41'"), "\\x41");
    CHECK_STR(file_of("ur'\\n'"), "\\n");
    CHECK_STR(file_of("''"), "");
    CHECK_STR(file_of("ub'a'"), "(error: t:1:4: error: expected a file name "
              "string)");
    CHECK_STR(file_of("x'a'"), "(error: t:1:4: error: expected a file name "
              "string)");
}

static void
test_repr_simple_escapes(void)
{
    CHECK_STR(file_of("'\\\\'"), "\\");
    CHECK_STR(file_of("'\\''"), "'");
    CHECK_STR(file_of("\"\\\"\""), "\"");
    CHECK_STR(file_of("'\\a\\b\\f\\n\\r\\t\\v'"), "\a\b\f\n\r\t\v");
    /* Backslash-newline inside a string is a line continuation. */
    CHECK_STR(file_of("'ab\\\ncd'"), "abcd");
    CHECK_STR(file_of("'ab\\\r\ncd'"), "abcd");
    /* Unknown escapes keep their backslash, as in Python. */
    CHECK_STR(file_of("'\\q\\d'"), "\\q\\d");
    /* In bytes, \u \U \N are not escapes. */
    CHECK_STR(file_of("b'\\u00f6\\N{X}'"), "\\u00f6\\N{X}");
}

static void
test_repr_numeric_escapes(void)
{
    CHECK_STR(file_of("'\\x41\\x7e'"), "A~");
    CHECK_STR(file_of("'\\101\\60\\0601'"), "A001");
    CHECK_STR(file_of("'\\u00f6'"), "\xc3\xb6");
    CHECK_STR(file_of("'\\u20AC'"), "\xe2\x82\xac");
    CHECK_STR(file_of("'\\U0001F600'"), "\xf0\x9f\x98\x80");
    CHECK_STR(file_of("'\\U000000e9'"), "\xc3\xa9");
    /* A Python 2 narrow-build surrogate pair is one character. */
    CHECK_STR(file_of("u'\\ud83d\\ude00'"), "\xf0\x9f\x98\x80");
    /* A lone surrogate cannot be UTF-8: U+FFFD. */
    CHECK_STR(file_of("'\\ud800x'"), "\xef\xbf\xbdx");
    CHECK_STR(file_of("'\\udc00'"), "\xef\xbf\xbd");
    /* Octal above 0o377 is a code point in text. */
    CHECK_STR(file_of("'\\777'"), "\xc7\xbf");
    CHECK_STR(file_of("b'\\777'"), "\xc3\xbf");
}

static void
test_repr_bytes_versus_text(void)
{
    /* Python 2 str: \x escapes are bytes, here the UTF-8 of "ö". */
    CHECK_STR(file_of("'w\\xc3\\xb6rk'"), "w\xc3\xb6rk");
    CHECK_STR(file_of("b'w\\xc3\\xb6rk'"), "w\xc3\xb6rk");
    CHECK_STR(file_of("'w\\303\\266rk'"), "w\xc3\xb6rk");
    /* Python 3 str: the same name as text. */
    CHECK_STR(file_of("'w\xc3\xb6rk'"), "w\xc3\xb6rk");
    CHECK_STR(file_of("'w\\u00f6rk'"), "w\xc3\xb6rk");
    /* Python 2 unicode: \xf6 is U+00F6. */
    CHECK_STR(file_of("u'w\\xf6rk'"), "w\xc3\xb6rk");
    /* Bytes that are not UTF-8 are Latin-1: what Python 3 repr means
     * by '\x85', and the best reading of a Latin-1 file name. */
    CHECK_STR(file_of("'w\\xf6rk'"), "w\xc3\xb6rk");
    CHECK_STR(file_of("'\\x85\\xa0\\xad'"), "\xc2\x85\xc2\xa0\xc2\xad");
    CHECK_STR(file_of("'w\xf6rk'"), "w\xc3\xb6rk");
    CHECK_STR(file_of("'\xc3\x28'"), "\xc3\x83(");
    CHECK_STR(file_of("'\xed\xa0\x80'"), "\xc3\xad\xc2\xa0\xc2\x80");
    CHECK_STR(file_of("'\xf4\x90\x80\x80'"),
              "\xc3\xb4\xc2\x90\xc2\x80\xc2\x80");
    CHECK_STR(file_of("'\xc0\xaf'"), "\xc3\x80\xc2\xaf");
    /* The three spellings intern to one frame. */
    CHECK_EQ_INT(parse("{(('w\\xc3\\xb6rk', 1, 'f'),): 1, "
                       "((u'w\\xf6rk', 1, 'f'),): 1, "
                       "(('w\xc3\xb6rk', 1, 'f'),): 1}"), 0);
    CHECK_EQ_INT(prof.nframes, 1);
    /* Func names are repaired too, independently of the file name. */
    CHECK_EQ_INT(parse("{(('\xff', 1, '\xfe'),): 1}"), 0);
    CHECK_STR(prof.frames[0].file, "\xc3\xbf");
    CHECK_STR(prof.frames[0].func, "\xc3\xbe");
    CHECK_EQ_INT(prof.frames[0].func_len, 2);
}

static void
test_repr_escapes_in_func_and_long_strings(void)
{
    /* Both strings of a frame decoded (two scratch buffers). */
    CHECK_EQ_INT(parse("{(('a\\tb', 1, 'c\\td'),): 1}"), 0);
    CHECK_STR(stack_str(0), "c\td@a\tb:1 *1");
    /* A long escaped string grows the scratch buffer. */
    size_t n = 100000;
    char *src = malloc(n * 4 + 64);
    size_t o = (size_t)sprintf(src, "{(('");
    for (size_t i = 0; i < n; i++) {
        memcpy(src + o, "\\x41", 4);
        o += 4;
    }
    o += (size_t)sprintf(src + o, "', 1, 'f'),): 1}");
    CHECK_EQ_INT(parse_n(src, o), 0);
    CHECK_EQ_INT(prof.frames[0].file_len, n);
    CHECK(prof.frames[0].file[n - 1] == 'A');
    CHECK(prof.frames[0].file[n] == '\0');
    free(src);
}

static void
test_repr_errors_structure(void)
{
    CHECK_ERR("{", "t:1:2: error: unexpected end of input");
    CHECK_ERR("{x", "t:1:2: error: expected '(' to open a stack");
    CHECK_ERR("{[('a', 1, 'f')]: 1}",
              "t:1:2: error: expected '(' to open a stack");
    CHECK_ERR("{(", "t:1:3: error: unexpected end of input");
    CHECK_ERR("{(): 1}", "t:1:2: error: stack has no frames");
    CHECK_ERR("{('a', 1, 'f'): 1}",
              "t:1:3: error: expected '(' to open a frame");
    CHECK_ERR("{(((('a', 1, 'f'),),),): 1}",
              "t:1:4: error: expected a file name string");
    CHECK_ERR("{((1, 1, 'f'),): 1}",
              "t:1:4: error: expected a file name string");
    CHECK_ERR("{(('a' 1, 'f'),): 1}",
              "t:1:8: error: expected ',' after the file name");
    CHECK_ERR("{(('a', 'x', 'f'),): 1}",
              "t:1:9: error: line number must be a non-negative integer");
    CHECK_ERR("{(('a', -1, 'f'),): 1}",
              "t:1:9: error: line number must be a non-negative integer");
    CHECK_ERR("{(('a', 1.5, 'f'),): 1}",
              "t:1:9: error: line number must be a non-negative integer");
    CHECK_ERR("{(('a', 0x1, 'f'),): 1}",
              "t:1:9: error: line number must be a non-negative integer");
    CHECK_ERR("{(('a', Nonesuch, 'f'),): 1}",
              "t:1:9: error: line number must be a non-negative integer");
    CHECK_ERR("{(('a', 2147483648, 'f'),): 1}",
              "t:1:9: error: line number 2147483648 is larger than the "
              "limit 2147483647");
    CHECK_ERR("{(('a', 1 'f'),): 1}",
              "t:1:11: error: expected ',' after the line number");
    CHECK_ERR("{(('a', 1, f),): 1}",
              "t:1:12: error: expected a function name string");
    CHECK_ERR("{(('a', 1, 'f', 2),): 1}",
              "t:1:17: error: expected ')' to close the frame");
    CHECK_ERR("{(('a', 1, 'f') ('b', 2, 'g')): 1}",
              "t:1:17: error: expected ',' or ')' after a frame");
    CHECK_ERR("{(('a', 1, 'f'),) 1}",
              "t:1:19: error: expected ':' after the stack");
    CHECK_ERR("{(('a', 1, 'f'),): 1 (",
              "t:1:22: error: expected ',' or '}' after count");
    CHECK_ERR("{(('a', 1, 'f'),): 1}}",
              "t:1:22: error: unexpected text after the closing '}'");
    CHECK_ERR("{}\n{}", "t:2:1: error: unexpected text after the closing '}'");
    CHECK_ERR("{(('a', 1, 'f'),): 1,",
              "t:1:22: error: unexpected end of input");
    CHECK_ERR("{(('a', 1, 'f'),):", "t:1:19: error: unexpected end of input");
    CHECK_ERR("{(('a', 1,", "t:1:11: error: unexpected end of input");
    CHECK_ERR("{(('a', ", "t:1:9: error: unexpected end of input");
    CHECK_ERR("{((", "t:1:4: error: unexpected end of input");
    /* The repr parser called directly on something else. */
    reset();
    CHECK_EQ_INT(parse_repr(&prof, "t", "a;b 1", 5, &diag), -1);
    CHECK_STR(err_line(), "t:1:1: error: expected '{' to open the profile");
}

static void
test_repr_errors_counts(void)
{
    CHECK_ERR("{(('a', 1, 'f'),): -1}",
              "t:1:20: error: count must be a non-negative integer");
    CHECK_ERR("{(('a', 1, 'f'),): 1.0}",
              "t:1:20: error: count must be a non-negative integer");
    CHECK_ERR("{(('a', 1, 'f'),): 1e3}",
              "t:1:20: error: count must be a non-negative integer");
    CHECK_ERR("{(('a', 1, 'f'),): '1'}",
              "t:1:20: error: count must be a non-negative integer");
    CHECK_ERR("{(('a', 1, 'f'),): 10000000000000000000}",
              "t:1:20: error: count 10000000000000000000 is larger than the "
              "limit 1000000000000000");
    CHECK_ERR("{(('a', 1, 'f'),): 1000000000000001}",
              "t:1:20: error: count 1000000000000001 is larger than the "
              "limit 1000000000000000");
    CHECK_ERR("{(('a', 1, 'f'),): "
              "123456789012345678901234567890123456789012345}",
              "t:1:20: error: count of 45 digits is larger than the limit "
              "1000000000000000");
    /* The total of many counts at the limit. */
    char src[64 * 1100];
    size_t o = (size_t)sprintf(src, "{");
    for (int i = 0; i < 1001; i++) {
        o += (size_t)sprintf(src + o, "(('a', %d, 'f'),): 1000000000000000,",
                             i);
    }
    sprintf(src + o, "}");
    CHECK_EQ_INT(parse(src), -1);
    CHECK(strstr(err_line(), "error: total count is larger than the limit "
                 "1000000000000000000") != NULL);
    CHECK_EQ_INT(prof.total, 1000000000000000000ULL);
}

static void
test_repr_errors_strings(void)
{
    CHECK_ERR("{(('abc", "t:1:4: error: unterminated string");
    CHECK_ERR("{(('ab\ncd', 1, 'f'),): 1}", "t:1:4: error: unterminated string");
    CHECK_ERR("{(('a\\'", "t:1:4: error: unterminated string");
    CHECK_ERR("{(('a\\", "t:1:4: error: unterminated string");
    CHECK_ERR("{(('a\\x4", "t:1:6: error: invalid \\x escape");
    CHECK_ERR("{(('a\\x4g', 1, 'f'),): 1}", "t:1:6: error: invalid \\x escape");
    CHECK_ERR("{(('\\u12', 1, 'f'),): 1}", "t:1:5: error: invalid \\u escape");
    CHECK_ERR("{(('\\U0001F60', 1, 'f'),): 1}",
              "t:1:5: error: invalid \\U escape");
    CHECK_ERR("{(('\\U00110000', 1, 'f'),): 1}",
              "t:1:5: error: \\U escape is beyond U+10FFFF");
    CHECK_ERR("{(('\\N{LATIN SMALL LETTER A}', 1, 'f'),): 1}",
              "t:1:5: error: \\N{...} escapes are not supported (repr() "
              "never writes them; use \\u or \\U)");
    CHECK_ERR("{(('a\\x00', 1, 'f'),): 1}",
              "t:1:6: error: string contains a NUL character");
    CHECK_ERR("{(('a\\0', 1, 'f'),): 1}",
              "t:1:6: error: string contains a NUL character");
    CHECK_ERR("{(('\\u0000', 1, 'f'),): 1}",
              "t:1:5: error: string contains a NUL character");
    CHECK(parse_n("{(('a\0', 1, 'f'),): 1}", 22) == -1);
    CHECK_STR(err_line(), "t:1:6: error: string contains a NUL character");
    CHECK(parse_n("{(('a\\x41\0', 1, 'f'),): 1}", 26) == -1);
    CHECK_STR(err_line(), "t:1:10: error: string contains a NUL character");
    CHECK(parse_n("{((r'a\\\0', 1, 'f'),): 1}", 24) == -1);
    CHECK_STR(err_line(), "t:1:8: error: string contains a NUL character");

    /* PROFILE_MAX_STRING, with and without escapes. */
    size_t n = PROFILE_MAX_STRING + 1;
    char *src = malloc(n * 4 + 64);
    size_t o = (size_t)sprintf(src, "{(('");
    memset(src + o, 'a', n);
    o += n;
    o += (size_t)sprintf(src + o, "', 1, 'f'),): 1}");
    CHECK_EQ_INT(parse_n(src, o), -1);
    CHECK_STR(err_line(), "t:1:4: error: string is longer than the limit "
              "1048576 bytes");
    o = (size_t)sprintf(src, "{(('");
    for (size_t i = 0; i < n; i++) {
        memcpy(src + o, "\\t", 2);
        o += 2;
    }
    o += (size_t)sprintf(src + o, "', 1, 'f'),): 1}");
    CHECK_EQ_INT(parse_n(src, o), -1);
    CHECK_STR(err_line(), "t:1:4: error: string is longer than the limit "
              "1048576 bytes");
    o = (size_t)sprintf(src, "{(('");
    memset(src + o, 'a', n - 1);
    o += n - 1;
    o += (size_t)sprintf(src + o, "', 1, 'f'),): 1}");
    CHECK_EQ_INT(parse_n(src, o), 0);
    CHECK_EQ_INT(prof.frames[0].file_len, PROFILE_MAX_STRING);
    free(src);
}

static void
test_repr_diag_format(void)
{
    CHECK_ERR("{(('a', 1, 'f'),):\n  x}",
              "t:2:3: error: count must be a non-negative integer");
    CHECK_STR(diag.msg, "t:2:3: error: count must be a non-negative "
              "integer\n      x}\n      ^\n");
}

static void
test_repr_depth_limit(void)
{
    size_t n = PROFILE_MAX_DEPTH + 1;
    char *src = malloc(n * 14 + 64);
    size_t o = (size_t)sprintf(src, "{(");
    for (size_t i = 0; i < n - 1; i++) {
        o += (size_t)sprintf(src + o, "('a',1,'f'),");
    }
    size_t last = o;
    o += (size_t)sprintf(src + o, "): 3}");
    CHECK_EQ_INT(parse_n(src, o), 0);
    CHECK_EQ_INT(prof.max_depth, PROFILE_MAX_DEPTH);
    CHECK_EQ_INT(prof.nframes, 1);
    o = last + (size_t)sprintf(src + last, "('a',1,'f'),): 3}");
    CHECK_EQ_INT(parse_n(src, o), -1);
    char want[128];
    snprintf(want, sizeof(want), "t:1:%zu: error: stack is deeper than the "
             "limit 100000", last + 1);
    CHECK_STR(err_line(), want);
    free(src);
}

/* ---------------------------------------------------------------- collapsed */

static void
test_collapsed_basic(void)
{
    CHECK_EQ_INT(parse("main (a.py:1);f (b.py:20);g (b.py:30) 5\n"
                       "main (a.py:1);f (b.py:20) 2\n"), 0);
    CHECK_EQ_INT(prof.nstacks, 2);
    CHECK_EQ_INT(prof.nframes, 3);
    CHECK_EQ_INT(prof.total, 7);
    CHECK_EQ_INT(prof.ninputs, 1);
    CHECK_STR(stack_str(0), "g@b.py:30<f@b.py:20<main@a.py:1 *5");
    CHECK_STR(stack_str(1), "f@b.py:20<main@a.py:1 *2");
}

static void
test_collapsed_frames(void)
{
    /* Other frames are function names alone. */
    CHECK_EQ_INT(parse("a;b;c 3"), 0);
    CHECK_STR(stack_str(0), "c@:0<b@:0<a@:0 *3");
    /* plop 0.4's stray line. */
    CHECK_EQ_INT(parse("None 1\n"), 0);
    CHECK_STR(stack_str(0), "None@:0 *1");
    /* Spaces and parentheses inside names and paths. */
    CHECK_EQ_INT(parse("<module> (/tmp/My Dir (2)/x.py:4);"
                       "<lambda> (<string>:1) 1"), 0);
    CHECK_STR(stack_str(0), "<lambda>@<string>:1<<module>@/tmp/My Dir "
              "(2)/x.py:4 *1");
    /* Not quite the form: kept whole as the function name. */
    CHECK_EQ_INT(parse("f (a.py) 1\nf (a.py:) 1\nf (:3) 1\n (a.py:3) 1\n"
                       "f(a.py:3) 1\nf (a.py:3)x 1\n"), 0);
    CHECK_STR(stack_str(0), "f (a.py)@:0 *1");
    CHECK_STR(stack_str(1), "f (a.py:)@:0 *1");
    CHECK_STR(stack_str(2), "f (:3)@:0 *1");
    CHECK_STR(stack_str(3), "(a.py:3)@:0 *1");
    CHECK_STR(stack_str(4), "f(a.py:3)@:0 *1");
    CHECK_STR(stack_str(5), "f (a.py:3)x@:0 *1");
    /* py-spy's "func (file:line)" with a colon in the file name. */
    CHECK_EQ_INT(parse("f (C:\\x.py:12) 1"), 0);
    CHECK_STR(stack_str(0), "f@C:\\x.py:12 *1");
    /* Empty and blank frames, wherever they are, are the function with
     * the empty name (perf's "...;write0_[j];  3"). */
    CHECK_EQ_INT(parse("a;;b 1\n;a 2\na; 3\nw_[j];  4\na; \t;b 5\n"), 0);
    CHECK_STR(stack_str(0), "b@:0<@:0<a@:0 *1");
    CHECK_STR(stack_str(1), "a@:0<@:0 *2");
    CHECK_STR(stack_str(2), "@:0<a@:0 *3");
    CHECK_STR(stack_str(3), "@:0<w_[j]@:0 *4");
    CHECK_STR(stack_str(4), "b@:0<@:0<a@:0 *5");
    CHECK_EQ_INT(prof.nframes, 4);
    /* Non-UTF-8 bytes are Latin-1, as in the repr parser. */
    CHECK_EQ_INT(parse("f (/tmp/w\xf6rk/x.py:3) 1"), 0);
    CHECK_STR(prof.frames[0].file, "/tmp/w\xc3\xb6rk/x.py");
}

static void
test_collapsed_lines(void)
{
    CHECK_EQ_INT(parse(""), 0);
    CHECK_EQ_INT(prof.nstacks, 0);
    CHECK_EQ_INT(parse("\n\n  \t\r\n"), 0);
    CHECK_EQ_INT(prof.nstacks, 0);
    CHECK_EQ_INT(parse("a;b 1\r\n\r\nc 2\r\n"), 0);
    CHECK_EQ_INT(prof.nstacks, 2);
    CHECK_STR(stack_str(0), "b@:0<a@:0 *1");
    CHECK_STR(stack_str(1), "c@:0 *2");
    CHECK_EQ_INT(parse("\xef\xbb\xbf  a;b \t 1  \nc 0\nd 3"), 0);
    CHECK_EQ_INT(prof.nstacks, 2);
    CHECK_STR(stack_str(0), "b@:0<a@:0 *1");
    CHECK_STR(stack_str(1), "d@:0 *3");
    CHECK_EQ_INT(prof.total, 4);
    CHECK_EQ_INT(parse("a 1000000000000000\n"), 0);
    CHECK_EQ_INT(prof.total, 1000000000000000ULL);
}

#define CHECK_CERR(src, expected) CHECK_ERR(src, expected)

static void
test_collapsed_errors(void)
{
    CHECK_CERR("a;b;c\n", "t:1:6: error: expected a count at the end of the "
               "line");
    CHECK_CERR("a;b 1\n\n12\n", "t:3:1: error: expected a stack before the "
               "count");
    CHECK_CERR("a;b -1\n", "t:1:5: error: count must be a non-negative "
               "integer");
    CHECK_CERR("a;b 1.5\n", "t:1:5: error: count must be a non-negative "
               "integer");
    CHECK_CERR("a;b 12x\n", "t:1:5: error: count must be a non-negative "
               "integer");
    CHECK_CERR("a;b 10000000000000000000\n", "t:1:5: error: count "
               "10000000000000000000 is larger than the limit "
               "1000000000000000");
    CHECK_CERR("a;b +1\n", "t:1:5: error: count must be a non-negative "
               "integer");
    CHECK_CERR("a;b .5\n", "t:1:5: error: count must be a non-negative "
               "integer");
    CHECK_CERR("main (a.py:1);g (a.py:3)\n", "t:1:25: error: expected a "
               "count at the end of the line");
    CHECK_CERR("a;b x\r\n", "t:1:6: error: expected a count at the end of "
               "the line");
    CHECK_CERR("f (a.py:99999999999) 1\n", "t:1:9: error: line number "
               "99999999999 is larger than the limit 2147483647");
    CHECK_EQ_INT(parse_n("a\0b 1\n", 6), -1);
    CHECK_STR(err_line(), "t:1:2: error: frame name contains a NUL byte");
    CHECK_STR(diag.msg, "t:1:2: error: frame name contains a NUL byte\n"
              "    a?b 1\n     ^\n");
    /* The total. */
    char src[32 * 1100];
    size_t o = 0;
    for (int i = 0; i < 1001; i++) {
        o += (size_t)sprintf(src + o, "a 1000000000000000\n");
    }
    CHECK_EQ_INT(parse(src), -1);
    CHECK_STR(err_line(), "t:1001:3: error: total count is larger than the "
              "limit 1000000000000000000");
}

static void
test_collapsed_depth_limit(void)
{
    size_t n = PROFILE_MAX_DEPTH + 1;
    char *src = malloc(n * 2 + 64);
    size_t o = 0;
    for (size_t i = 0; i < n - 2; i++) {
        src[o++] = (char)('a' + i % 26);
        src[o++] = ';';
    }
    size_t last = o;
    o += (size_t)sprintf(src + o, "z 1\n");
    CHECK_EQ_INT(parse_n(src, o), 0);
    CHECK_EQ_INT(prof.max_depth, PROFILE_MAX_DEPTH);
    CHECK_EQ_INT(prof.nframes, 26);
    if (prof.nstacks == 1) {
        CHECK_STR(prof.frames[prof.stacks[0].frames[0]].func, "z");
        CHECK_STR(prof.frames[prof.stacks[0].frames[n - 2]].func, "a");
    }
    o = last + (size_t)sprintf(src + last, "y;z 1\n");
    CHECK_EQ_INT(parse_n(src, o), -1);
    char want[128];
    snprintf(want, sizeof(want), "t:1:%zu: error: stack is deeper than the "
             "limit 100000", last + 3);
    CHECK_STR(err_line(), want);
    free(src);
}

static void
test_frames_limit_and_a_million_functions(void)
{
    /* A million distinct functions parse (issue 6). */
    size_t n = 1000000;
    char *src = malloc(n * 16);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        o += (size_t)sprintf(src + o, "main;f%zu 1\n", i);
    }
    CHECK_EQ_INT(parse_n(src, o), 0);
    CHECK_EQ_INT(prof.nframes, n + 1);
    CHECK_EQ_INT(prof.total, n);
    CHECK_STR(prof.frames[prof.stacks[n - 1].frames[0]].func, "f999999");
    free(src);

    /* The frame limit, lowered so the test stays small. */
    const char *c = "a 1\nb 1\nc 1\n";
    reset();
    prof.max_frames = 2;
    CHECK_EQ_INT(load_buffer(&prof, "t", c, strlen(c), 0, &diag), -1);
    CHECK_STR(err_line(), "t:3:1: error: number of distinct frames is "
              "larger than the limit 2");
    const char *r = "{(('a', 1, 'f'), ('a', 2, 'f')): 1, "
                    "(('a', 1, 'f'), ('a', 3, 'f')): 1}";
    reset();
    prof.max_frames = 2;
    CHECK_EQ_INT(load_buffer(&prof, "t", r, strlen(r), 0, &diag), -1);
    CHECK_STR(err_line(), "t:1:53: error: number of distinct frames is "
              "larger than the limit 2");
    CHECK_EQ_INT(prof.max_frames, 2);
    reset();
    CHECK_EQ_INT(prof.max_frames, PROFILE_MAX_FRAMES);
}

/* ---------------------------------------------------------------- store */

static void
test_intern_and_stacks(void)
{
    reset();
    int64_t a = profile_intern(&prof, "x.py", 4, 1, "f", 1);
    int64_t b = profile_intern(&prof, "x.py", 4, 2, "f", 1);
    int64_t c = profile_intern(&prof, "x.py", 4, 1, "g", 1);
    int64_t a2 = profile_intern(&prof, "x.pyZ", 4, 1, "fZ", 1);
    CHECK_EQ_INT(a, 0);
    CHECK_EQ_INT(b, 1);
    CHECK_EQ_INT(c, 2);
    CHECK_EQ_INT(a2, 0);
    /* Many frames: the table grows and every id stays findable. */
    char fn[32];
    for (int i = 0; i < 200000; i++) {
        int n = snprintf(fn, sizeof(fn), "f%d", i);
        CHECK_EQ_INT(profile_intern(&prof, "m.py", 4, i, fn, (size_t)n),
                     3 + i);
    }
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        int n = snprintf(fn, sizeof(fn), "f%d", i);
        bad += profile_intern(&prof, "m.py", 4, i, fn, (size_t)n) != 3 + i;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(prof.nframes, 200003);
    CHECK_STR(prof.frames[200002].func, "f199999");
    CHECK_EQ_INT(profile_intern(&prof, "x", PROFILE_MAX_STRING + 1, 1, "f",
                                1), -2);

    uint32_t ids[3] = {0, 1, 2};
    CHECK_EQ_INT(profile_add_stack(&prof, ids, 3, 4), 0);
    ids[0] = 9;
    CHECK_EQ_INT(prof.stacks[0].frames[0], 0);   /* copied */
    CHECK_EQ_INT(profile_add_stack(&prof, ids, 1, 0), 0);
    CHECK_EQ_INT(prof.nstacks, 1);
    CHECK_EQ_INT(profile_add_stack(&prof, ids, 1, PROFILE_MAX_TOTAL - 4), 0);
    CHECK_EQ_INT(prof.total, PROFILE_MAX_TOTAL);
    CHECK_EQ_INT(profile_add_stack(&prof, ids, 1, 1), -1);
    CHECK_EQ_INT(prof.nstacks, 2);
    CHECK_EQ_INT(prof.max_depth, 3);
}

static void
test_merge_two_inputs(void)
{
    reset();
    const char *a = "{(('a.py', 1, 'f'),): 2}";
    const char *b = "f (a.py:1) 3\n";
    CHECK_EQ_INT(load_buffer(&prof, "a", a, strlen(a), 0, &diag), 0);
    CHECK_EQ_INT(load_buffer(&prof, "b", b, strlen(b), 0, &diag), 0);
    CHECK_EQ_INT(prof.ninputs, 2);
    CHECK_EQ_INT(prof.nframes, 1);
    CHECK_EQ_INT(prof.nstacks, 2);
    CHECK_EQ_INT(prof.total, 5);
    /* An explicit format overrides detection. */
    reset();
    CHECK_EQ_INT(load_buffer(&prof, "c", "{x 1", 4,
                               LOAD_FORMAT_COLLAPSED, &diag), 0);
    CHECK_STR(prof.frames[0].func, "{x");
}

/* ---------------------------------------------------------------- load */

static const struct frame *
find_file(const char *needle)
{
    for (uint32_t i = 0; i < prof.nframes; i++) {
        if (strstr(prof.frames[i].file, needle) != NULL) {
            return &prof.frames[i];
        }
    }
    return NULL;
}

static void
test_fixtures(void)
{
    reset();
    CHECK_EQ_INT(load_file(&prof, "tests/fixtures/plop-0.2-py2.7-mixed.out",
                              &diag), 0);
    CHECK_EQ_INT(prof.nstacks, 18);
    CHECK_EQ_INT(prof.total, 377);
    CHECK_EQ_INT(prof.nframes, 20);
    CHECK_EQ_INT(prof.max_depth, 23);
    const struct frame *f = find_file("rk/pkg/");
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK_STR(f->file, "/tmp/w\xc3\xb6rk/pkg/helper_mod.py");
        CHECK_STR(f->func, "crunch");
        CHECK_EQ_INT(f->line, 1);
    }

    reset();
    CHECK_EQ_INT(load_file(&prof, "tests/fixtures/plop-0.4-py3.11-mixed.plop",
                              &diag), 0);
    CHECK_EQ_INT(prof.nstacks, 23);
    CHECK_EQ_INT(prof.total, 466);
    CHECK_EQ_INT(prof.nframes, 33);
    CHECK_EQ_INT(prof.max_depth, 24);
    f = find_file("rk/pkg/");
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK_STR(f->file, "/tmp/w\xc3\xb6rk/pkg/helper_mod.py");
        CHECK_EQ_INT(f->line, 4);
    }

    reset();
    CHECK_EQ_INT(load_file(&prof,
                              "tests/fixtures/plop-0.4-py3.11-mixed.flame",
                              &diag), 0);
    CHECK_EQ_INT(prof.nstacks, 494);
    CHECK_EQ_INT(prof.total, 498);
    CHECK_EQ_INT(prof.nframes, 34);
    CHECK_EQ_INT(prof.max_depth, 24);
    f = find_file("rk/pkg/");
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK_STR(f->file, "/tmp/w\xc3\xb6rk/pkg/helper_mod.py");
        CHECK_STR(f->func, "crunch");
    }
    /* Leaf first: the root of every fixture stack is the runpy main. */
    CHECK_STR(prof.frames[prof.stacks[1].frames[prof.stacks[1].depth - 1]]
              .func, "_run_module_as_main");
}

static void
test_load_errors(void)
{
    char dir[] = "/tmp/plop-test-parse-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];

    reset();
    snprintf(path, sizeof(path), "%s/missing.out", dir);
    CHECK_EQ_INT(load_file(&prof, path, &diag), -1);
    CHECK_EQ_INT(diag.kind, DIAG_IO);
    char want[512];
    snprintf(want, sizeof(want), "error: cannot open '%s': No such file or "
             "directory\n", path);
    CHECK_STR(diag.msg, want);

    reset();
    CHECK_EQ_INT(load_file(&prof, dir, &diag), -1);
    CHECK_EQ_INT(diag.kind, DIAG_IO);
    snprintf(want, sizeof(want), "error: cannot read '%s': Is a directory\n",
             dir);
    CHECK_STR(diag.msg, want);

    /* A parse error names the file as given. */
    snprintf(path, sizeof(path), "%s/bad.out", dir);
    FILE *fp = fopen(path, "w");
    fputs("{(('a', 1, 'f'),): x}\n", fp);
    fclose(fp);
    reset();
    CHECK_EQ_INT(load_file(&prof, path, &diag), -1);
    CHECK_EQ_INT(diag.kind, DIAG_PARSE);
    snprintf(want, sizeof(want), "%s:1:20: error: count must be a "
             "non-negative integer", path);
    CHECK_STR(err_line(), want);

    /* The size limit, before reading. */
    reset();
    CHECK_EQ_INT(load_file_max(&prof, path, 10, &diag), -1);
    CHECK_EQ_INT(diag.kind, DIAG_PARSE);
    snprintf(want, sizeof(want), "%s: error: input is larger than the limit "
             "10 bytes\n", path);
    CHECK_STR(diag.msg, want);

    /* The real limit, on a sparse file one byte past it. */
    snprintf(path, sizeof(path), "%s/huge.out", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ_INT(ftruncate(fd, (off_t)PROFILE_MAX_INPUT + 1), 0);
    close(fd);
    reset();
    CHECK_EQ_INT(load_file(&prof, path, &diag), -1);
    snprintf(want, sizeof(want), "%s: error: input is larger than the limit "
             "8589934592 bytes\n", path);
    CHECK_STR(diag.msg, want);
    unlink(path);

    /* An empty file is an empty profile. */
    snprintf(path, sizeof(path), "%s/empty.out", dir);
    fp = fopen(path, "w");
    fclose(fp);
    reset();
    CHECK_EQ_INT(load_file(&prof, path, &diag), 0);
    CHECK_EQ_INT(prof.nstacks, 0);
    unlink(path);

    snprintf(path, sizeof(path), "%s/bad.out", dir);
    unlink(path);
    rmdir(dir);
}

/* Makes standard input a pipe holding `text` (small: it fits the pipe
 * buffer), so load_file("-") takes its read() path. */
static void
stdin_from_pipe(const char *text)
{
    int fds[2];
    CHECK_EQ_INT(pipe(fds), 0);
    CHECK_EQ_INT(write(fds[1], text, strlen(text)), (long long)strlen(text));
    close(fds[1]);
    dup2(fds[0], 0);
    close(fds[0]);
}

static void
test_load_stdin(void)
{
    int saved = dup(0);
    stdin_from_pipe("a;b 2\nb 1\n");
    reset();
    CHECK_EQ_INT(load_file(&prof, "-", &diag), 0);
    CHECK_EQ_INT(prof.total, 3);
    CHECK_EQ_INT(prof.nstacks, 2);

    /* The limit is enforced while reading. */
    stdin_from_pipe("a;b 2\nb 1\n");
    reset();
    CHECK_EQ_INT(load_file_max(&prof, "-", 4, &diag), -1);
    CHECK_STR(diag.msg, "<stdin>: error: input is larger than the limit 4 "
              "bytes\n");

    /* More than the first read buffer (64 KiB) through a pipe, from a
     * child process, so the buffer has to grow. */
    int fds[2];
    CHECK_EQ_INT(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        for (int i = 0; i < 50000; i++) {
            if (write(fds[1], "x;y 1\n", 6) != 6) {
                _exit(1);
            }
        }
        _exit(0);
    }
    close(fds[1]);
    dup2(fds[0], 0);
    close(fds[0]);
    reset();
    CHECK_EQ_INT(load_file(&prof, "-", &diag), 0);
    CHECK_EQ_INT(prof.total, 50000);
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK_EQ_INT(status, 0);

    /* A regular file on standard input is mapped instead. */
    char path[] = "/tmp/plop-test-stdin-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    for (int i = 0; i < 20000; i++) {
        CHECK_EQ_INT(write(fd, "x;y 1\n", 6), 6);
    }
    lseek(fd, 0, SEEK_SET);
    dup2(fd, 0);
    close(fd);
    reset();
    CHECK_EQ_INT(load_file(&prof, "-", &diag), 0);
    CHECK_EQ_INT(prof.total, 20000);

    /* A parse error on standard input is named <stdin>. */
    stdin_from_pipe("a;b x\n");
    reset();
    CHECK_EQ_INT(load_file(&prof, "-", &diag), -1);
    CHECK_STR(err_line(), "<stdin>:1:6: error: expected a count at the end "
              "of the line");
    dup2(saved, 0);
    close(saved);
    unlink(path);
}

int
main(void)
{
    RUN(test_repr_basic);
    RUN(test_repr_empty_and_whitespace);
    RUN(test_repr_integers);
    RUN(test_repr_prefixes_and_quotes);
    RUN(test_repr_simple_escapes);
    RUN(test_repr_numeric_escapes);
    RUN(test_repr_bytes_versus_text);
    RUN(test_repr_escapes_in_func_and_long_strings);
    RUN(test_repr_errors_structure);
    RUN(test_repr_errors_counts);
    RUN(test_repr_errors_strings);
    RUN(test_repr_diag_format);
    RUN(test_repr_depth_limit);
    RUN(test_collapsed_basic);
    RUN(test_collapsed_frames);
    RUN(test_collapsed_lines);
    RUN(test_collapsed_errors);
    RUN(test_collapsed_depth_limit);
    RUN(test_frames_limit_and_a_million_functions);
    RUN(test_intern_and_stacks);
    RUN(test_merge_two_inputs);
    RUN(test_fixtures);
    RUN(test_load_errors);
    RUN(test_load_stdin);
    arena_free(arena);
    return check_report();
}
