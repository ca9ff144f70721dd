/*
 * templates.h: the files of templates/ (report.html, report.css, report.js,
 * ...), embedded in the binary at build time by .ci/embed-templates.
 */
#ifndef PLOP_TEMPLATES_H
#define PLOP_TEMPLATES_H

#include <stddef.h>

/*
 * Returns the bytes of the template whose file name (no directory) is
 * `name`, and stores their length in *len; NULL and *len = 0 when there is
 * no such template.  The bytes are static: never freed, NUL-terminated.
 */
const char *templates_get(const char *name, size_t *len);

#endif
