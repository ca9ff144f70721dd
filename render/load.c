/*
 * load.c: the loader (see load.h): getting a whole input into memory,
 * detecting its format and handing it to that format's parser.
 *
 * A regular file is mapped read-only (no copy, and its pages are the page
 * cache's, not the heap's); standard input, pipes and anything mmap
 * refuses are read into one malloc'd buffer grown by doubling.  Either way
 * the input is released as soon as it is parsed: the profile keeps copies
 * of the distinct strings only.  Inputs larger than the limit are refused
 * before (or while) reading.
 *
 * A mapped file that another process truncates while it is parsed (a
 * profile being rewritten in place) makes the next read of a page past
 * its new end raise SIGBUS.  The parse runs with a SIGBUS handler that
 * jumps back here when the faulting address lies in the mapping, so the
 * parser keeps reading plain memory at full speed and a truncation is a
 * clear error.  The parser is only ever interrupted while it reads input
 * bytes (never inside malloc: it allocates before it copies), and the
 * half-filled profile is never rendered (parse.h).  A fault anywhere else
 * is not ours: the handler restores the default action and the fault
 * repeats, as it would have without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "load.h"
#include "parse.h"
#include "pprof.h"
#include "profile.h"

/* ---------------------------------------------------------------- formats */

static size_t
skip_bom_and_blanks(const char *buf, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        i = 3;
    }
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n'
                       || buf[i] == '\r' || buf[i] == '\f')) {
        i++;
    }
    return i;
}

static int
is_repr(const char *buf, size_t len)
{
    size_t i = skip_bom_and_blanks(buf, len);
    return i < len && buf[i] == '{';
}

struct input_format {
    enum load_format id;
    const char *name;
    /* 1 when buf[0..len) looks like this format; NULL: takes anything
     * (the last row). */
    int (*detect)(const char *buf, size_t len);
    int (*parse)(struct profile *p, const char *name, const char *buf,
                 size_t len, struct diag *d);
};

/* Detection order: the first row whose detector says yes. */
static const struct input_format input_formats[] = {
    {LOAD_FORMAT_PPROF, "pprof", pprof_sniff, parse_pprof},
    {LOAD_FORMAT_REPR, "repr", is_repr, parse_repr},
    {LOAD_FORMAT_COLLAPSED, "collapsed", NULL, parse_collapsed},
};

#define NINPUT_FORMATS (sizeof(input_formats) / sizeof(input_formats[0]))

static const struct input_format *
detect(const char *buf, size_t len, enum load_format fmt)
{
    for (size_t i = 0; i < NINPUT_FORMATS; i++) {
        const struct input_format *f = &input_formats[i];
        if (fmt == LOAD_FORMAT_AUTO ? f->detect == NULL
                                      || f->detect(buf, len)
                                    : f->id == fmt) {
            return f;
        }
    }
    return &input_formats[NINPUT_FORMATS - 1];
}

int
load_buffer(struct profile *p, const char *name, const char *buf, size_t len,
            enum load_format fmt, struct diag *d)
{
    int rc = detect(buf, len, fmt)->parse(p, name, buf, len, d);
    if (rc == 0) {
        p->ninputs++;
    }
    return rc;
}

/* ---------------------------------------------------------------- SIGBUS */

static sigjmp_buf bus_jump;
static const char *volatile bus_lo;     /* the mapping being parsed */
static const char *volatile bus_hi;

static void
on_sigbus(int sig, siginfo_t *si, void *ctx)
{
    const char *addr = si->si_addr;
    (void)ctx;
    if (bus_lo != NULL && addr >= bus_lo && addr < bus_hi) {
        siglongjmp(bus_jump, 1);
    }
    signal(sig, SIG_DFL);
}

/*
 * load_buffer() over the mapping map[0..len), with truncation caught.
 * Returns load_buffer()'s result, or -2 when the file shrank under the
 * parser (d untouched).
 */
static int
parse_mapped(struct profile *p, const char *name, const char *map,
             size_t len, struct diag *d)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    volatile int rc = -2;
    if (sigsetjmp(bus_jump, 1) == 0) {
        bus_lo = map;
        bus_hi = map + len;
        sigaction(SIGBUS, &sa, &old);
        rc = load_buffer(p, name, map, len, LOAD_FORMAT_AUTO, d);
    }
    bus_lo = bus_hi = NULL;
    sigaction(SIGBUS, &old, NULL);
    return rc;
}

static int
too_large(struct diag *d, const char *name, size_t max)
{
    diag_set(d, DIAG_PARSE, "%s: error: input is larger than the limit %zu "
             "bytes", name, max);
    return -1;
}

/* Reads fd to the end into a new malloc'd buffer (*out, *len), which the
 * caller frees.  Returns 0, -1 on a read error (errno set), -2 when the
 * input grows past `max`. */
static int
read_all(int fd, size_t max, char **out, size_t *len)
{
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        die_nomem(cap);
    }
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                free(buf);
                return -2;
            }
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                die_nomem(cap);
            }
            buf = nb;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            int e = errno;
            free(buf);
            errno = e;
            return -1;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
        if (n > max) {
            free(buf);
            return -2;
        }
    }
    *out = buf;
    *len = n;
    return 0;
}

int
load_file_max(struct profile *p, const char *path, size_t max_input,
              struct diag *d)
{
    int is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? LOAD_STDIN_NAME : path;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        diag_set(d, DIAG_IO, "error: cannot open '%s': %s", path,
                 strerror(errno));
        return -1;
    }

    struct stat st;
    if (fstat(fd, &st) < 0) {
        diag_set(d, DIAG_IO, "error: cannot read '%s': %s", name,
                 strerror(errno));
        goto error;
    }
    if (S_ISDIR(st.st_mode)) {
        diag_set(d, DIAG_IO, "error: cannot read '%s': %s", name,
                 strerror(EISDIR));
        goto error;
    }

    char *buf = NULL;
    size_t len = 0;
    void *map = NULL;
    if (S_ISREG(st.st_mode)) {
        if ((uintmax_t)st.st_size > (uintmax_t)max_input) {
            too_large(d, name, max_input);
            goto error;
        }
        if (st.st_size > 0) {
            map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
                       0);
            if (map == MAP_FAILED) {
                map = NULL;
            }
            else {
                len = (size_t)st.st_size;
                madvise(map, len, MADV_SEQUENTIAL);
            }
        }
    }
    if (map == NULL) {
        int rc = read_all(fd, max_input, &buf, &len);
        if (rc == -2) {
            too_large(d, name, max_input);
            goto error;
        }
        if (rc < 0) {
            diag_set(d, DIAG_IO, "error: cannot read '%s': %s", name,
                     strerror(errno));
            goto error;
        }
    }
    if (!is_stdin) {
        close(fd);
    }

    int rc;
    if (map != NULL) {
        rc = parse_mapped(p, name, map, len, d);
        munmap(map, len);
        if (rc == -2) {
            diag_set(d, DIAG_IO, "error: cannot read '%s': the file was "
                     "truncated while it was read", name);
            rc = -1;
        }
    }
    else {
        rc = load_buffer(p, name, buf, len, LOAD_FORMAT_AUTO, d);
        free(buf);
    }
    return rc;

error:
    if (!is_stdin) {
        close(fd);
    }
    return -1;
}

int
load_file(struct profile *p, const char *path, struct diag *d)
{
    return load_file_max(p, path, PROFILE_MAX_INPUT, d);
}
