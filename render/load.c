/*
 * load.c: getting a whole input into memory and handing it to
 * profile_parse() (see profile.h).  A regular file is mapped read-only
 * (no copy, and its pages are the page cache's, not the heap's); standard
 * input, pipes and anything mmap refuses are read into one malloc'd
 * buffer grown by doubling.  Either way the input is released as soon as
 * it is parsed: the profile keeps copies of the distinct strings only.
 * Inputs larger than the limit are refused before (or while) reading.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "profile.h"

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
profile_load_max(struct profile *p, const char *path, size_t max_input,
                 struct diag *d)
{
    int is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
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

    int rc = profile_parse(p, name, map ? (const char *)map : buf, len, 0, d);
    if (map != NULL) {
        munmap(map, len);
    }
    free(buf);
    return rc;

error:
    if (!is_stdin) {
        close(fd);
    }
    return -1;
}

int
profile_load(struct profile *p, const char *path, struct diag *d)
{
    return profile_load_max(p, path, PROFILE_MAX_INPUT, d);
}
