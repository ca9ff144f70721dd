/*
 * diag.h: how plop-render reports a failure, and its exit codes.
 *
 * A failing step fills a struct diag and returns -1; main() prints
 * diag.msg to stderr as it is and exits with plop_exit_code(kind).
 * Messages follow Git's wording: lowercase, no full stop, the problem
 * first, names in single quotes.  Parse errors look like
 *
 *     profile.out:12:34: error: expected ',' after tuple element
 *         ...('a.py', 3, 'f') ('b.py', 4, 'g')...
 *                            ^
 *
 * (the source line clipped to about 80 columns around the column, then a
 * caret under it).  Line and column count from 1; the column counts bytes.
 */
#ifndef PLOP_DIAG_H
#define PLOP_DIAG_H

#include <stdarg.h>
#include <stddef.h>

/* Exit codes, documented in --help and README, asserted by tests. */
enum plop_exit {
    PLOP_EXIT_OK = 0,
    PLOP_EXIT_USAGE = 2,   /* bad command line, bad regex */
    PLOP_EXIT_IO = 3,      /* cannot read an input or write the output */
    PLOP_EXIT_PARSE = 4,   /* malformed profile, or one past a limit */
    PLOP_EXIT_LAYOUT = 5,  /* Graphviz failed to lay out or render */
    PLOP_EXIT_NOMEM = 6,   /* out of memory */
    PLOP_EXIT_BUDGET = 7   /* a --fail-if budget is broken (outputs are
                            * written all the same) */
};

enum diag_kind {
    DIAG_NONE = 0,
    DIAG_USAGE,
    DIAG_IO,
    DIAG_PARSE,
    DIAG_LAYOUT
};

struct diag {
    enum diag_kind kind;
    char msg[1024];        /* complete text, ends with '\n' */
};

/* Formats msg (printf-style) into d->msg with a trailing newline. */
void diag_set(struct diag *d, enum diag_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Fills d with a parse error at byte offset `off` of buf[0..len) from the
 * input `name`: "name:L:C: error: <what>" plus the clipped source line and
 * the caret.  Computes L and C by scanning buf (error path only).
 */
void diag_parse_error(struct diag *d, const char *name, const char *buf,
                      size_t len, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* diag_parse_error() with a va_list, for the parsers' own wrappers. */
void diag_vparse_error(struct diag *d, const char *name, const char *buf,
                       size_t len, size_t off, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

int plop_exit_code(enum diag_kind kind);

#endif
