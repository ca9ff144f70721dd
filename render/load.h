/*
 * load.h: getting profiles into a profile store (load.c): reading a file
 * or standard input, detecting its format, and dispatching to the parser
 * of that format (parse.h).  The loader sits above both the parsers and
 * the store: parsers only fill the store, the store knows no format.
 *
 * The input formats, in the order detection tries them:
 *   pprof      gzip's magic bytes, or a binary profile.proto (pprof.h,
 *              pprof_sniff())
 *   repr       the first non-blank byte (after a UTF-8 BOM) is '{'
 *   collapsed  anything else
 * A new format adds a row to the table in load.c (name, detector,
 * parser) and a value to enum load_format.
 */
#ifndef PLOP_LOAD_H
#define PLOP_LOAD_H

#include <stddef.h>

#include "diag.h"

struct profile;

enum load_format {
    LOAD_FORMAT_AUTO = 0,       /* detect from the content */
    LOAD_FORMAT_REPR = 1,
    LOAD_FORMAT_COLLAPSED = 2,
    LOAD_FORMAT_PPROF = 3
};

/* How standard input ("-") is named in diagnostics and titles. */
#define LOAD_STDIN_NAME "<stdin>"

/*
 * Parses buf[0..len) (the whole content of the input `name`, as named in
 * diagnostics) into p as format `fmt`, detecting it for
 * LOAD_FORMAT_AUTO.  Returns 0, or -1 with d filled by the parser
 * (parse.h's contract: p must not be rendered then).
 */
int load_buffer(struct profile *p, const char *name, const char *buf,
                size_t len, enum load_format fmt, struct diag *d);

/*
 * Reads the file at `path` ("-" is standard input, named LOAD_STDIN_NAME
 * in messages) and parses it with load_buffer(..., LOAD_FORMAT_AUTO).  A
 * regular file is mapped, anything else read whole; the input is released
 * once parsed.  Errors:
 *   DIAG_IO     "error: cannot open 'x': No such file or directory"
 *               (also: cannot read, is a directory, and "error: 'x' was
 *               truncated while it was read" when a mapped file shrinks
 *               under the parser: caught, never a SIGBUS)
 *   DIAG_PARSE  "x: error: input is larger than the limit N bytes", or any
 *               parse error.
 */
int load_file(struct profile *p, const char *path, struct diag *d);

/* load_file() with another input size limit (tests use a small one). */
int load_file_max(struct profile *p, const char *path, size_t max_input,
                  struct diag *d);

#endif
