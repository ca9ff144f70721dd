/*
 * pprof.h: pprof's profile.proto, written (pprof_write.c) and read
 * (pprof_read.c).
 *
 * Format: github.com/google/pprof/proto/profile.proto, gzip'd as pprof
 * and every pprof-based service (Pyroscope, Parca, Cloud Profiler)
 * expect; the protobuf wire format comes from protobuf.h.
 *
 * What plop writes, from a built graph (graph.h):
 *   - sample types [samples/count, cpu/nanoseconds], the second being
 *     count x period; period type cpu/nanoseconds and the period;
 *     default sample type cpu;
 *   - one Function per graph node: (name, file, start line) where the
 *     start line is the node's line (graph.h: in function granularity
 *     the first line of a first-line profile, else the smallest line
 *     seen for the function);
 *   - one Location per profile frame used by a kept stack: that frame's
 *     function and line (so every line of the input survives, whatever
 *     the granularity);
 *   - one Sample per kept stack (--focus/--ignore apply), leaf first;
 *   - one Mapping, marked as having functions, file names and line
 *     numbers, so pprof never tries to symbolize;
 *   - comments: "plop-render VERSION" and "input: NAME" per input.
 * The output is deterministic: ids follow node and frame ids, and the
 * gzip header carries no time stamp.
 */
#ifndef PLOP_PPROF_H
#define PLOP_PPROF_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct graph;
struct profile;
struct strbuf;

/* What the writer needs besides the graph. */
struct pprof_meta {
    uint64_t period_ns;             /* > 0: nanoseconds per sample */
    const char *const *comments;    /* written as they are */
    int ncomments;
};

/*
 * Appends the uncompressed profile.proto message of g (built, pruning not
 * needed) to out.  Returns 0, or -1 with d filled (DIAG_USAGE) when a
 * stack's cpu time (count x period) does not fit in an int64.
 */
int pprof_encode(struct strbuf *out, const struct graph *g,
                 const struct pprof_meta *m, struct diag *d);

/* pprof_encode() then gzip (zlib, level 6, no time stamp, OS unix). */
int pprof_write(struct strbuf *out, const struct graph *g,
                const struct pprof_meta *m, struct diag *d);

/*
 * Whether buf looks like a pprof file: gzip's magic bytes 1f 8b, or a
 * raw profile.proto message, which is told from text by its first byte
 * (the tag of a Profile field with wire type 0 or 2) and a control byte
 * other than tab, newline, CR and form feed in its first 64 bytes (every
 * real profile has one: the tags 0x08 and 0x10 of its first ValueType).
 */
int pprof_sniff(const char *buf, size_t len);

/*
 * Parses a pprof profile (gzip'd or not) from buf[0..len), as read from
 * the input `name`, into p.  A Location's lines become frames, the
 * innermost inlined one first: (function file name, line, function name;
 * the system name when the name is empty, "0xADDRESS" for a location
 * without lines).  The count of a sample is its value for the first
 * sample type whose unit is "count", else for the first sample type.
 * Samples without locations and samples whose count is 0 are dropped.
 * When the period type's unit is "nanoseconds" and the period is > 0,
 * p->period_ns is set to it (the first input that knows wins).
 *
 * Bad input (truncated or corrupt gzip, a malformed varint or field, an
 * id or string index that points nowhere, a negative or huge value,
 * a value count that differs from the sample types, a limit of
 * profile.h) fills d with "NAME: error: malformed pprof profile: ...
 * (at byte N)" (DIAG_PARSE) and returns -1; p must then not be used.
 * Memory: the decompressed message (at most PROFILE_MAX_INPUT bytes)
 * for the duration of the call, plus tables of ids in p's arena.
 */
int parse_pprof(struct profile *p, const char *name, const char *buf,
                size_t len, struct diag *d);

#endif
