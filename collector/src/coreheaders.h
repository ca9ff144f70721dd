/*
 * coreheaders.h: the brackets around CPython's internal headers
 * (internal/pycore_*.h), which frames.c and gilreq.c read with
 * Py_BUILD_CORE.  Those headers are not written for our warning flags
 * (-Wpedantic, -Wshadow, ... with -Werror in CI): the warnings are
 * silenced between PLOP_CORE_HEADERS_BEGIN and PLOP_CORE_HEADERS_END only.
 * No includes: it can come before Python.h.
 */
#ifndef PLOP_COREHEADERS_H
#define PLOP_COREHEADERS_H

#if defined(__GNUC__)
#define PLOP_CORE_HEADERS_BEGIN \
    _Pragma("GCC diagnostic push") \
    _Pragma("GCC diagnostic ignored \"-Wpedantic\"") \
    _Pragma("GCC diagnostic ignored \"-Wshadow\"") \
    _Pragma("GCC diagnostic ignored \"-Wunused-parameter\"") \
    _Pragma("GCC diagnostic ignored \"-Wsign-compare\"") \
    _Pragma("GCC diagnostic ignored \"-Wmissing-field-initializers\"")
#define PLOP_CORE_HEADERS_END _Pragma("GCC diagnostic pop")
#else
#define PLOP_CORE_HEADERS_BEGIN
#define PLOP_CORE_HEADERS_END
#endif

#endif
