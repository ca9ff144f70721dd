/*
 * main.c: the plop-render command line.
 *
 *     plop-render [options] PROFILE... -o OUT
 *
 * Parses the options (opts.h), loads and merges the profiles (profile.h),
 * builds and prunes the call graph (graph.h), runs the writer of the
 * chosen format into a strbuf, and puts the bytes on disk in one go: a
 * temporary file in OUT's directory, then rename(), so a failure never
 * leaves a partial OUT ("-o -" writes to standard output).
 *
 * Output formats are the rows of `formats` below: a name for -T, the file
 * extension that selects it, and the writer.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "budget.h"
#include "diag.h"
#include "diff.h"
#include "flame.h"
#include "graph.h"
#include "gv.h"
#include "html.h"
#include "load.h"
#include "md.h"
#include "opts.h"
#include "pprof.h"
#include "present.h"
#include "profile.h"
#include "speedscope.h"
#include "strbuf.h"
#include "text.h"

/* PLOP_VERSION comes from the Makefile, which reads the VERSION file. */
#ifndef PLOP_VERSION
#error "PLOP_VERSION is not defined: build with make"
#endif

/* Everything a writer may need. */
struct render_job {
    struct arena *arena;
    const struct profile *prof;
    const struct graph *graph;
    const struct render_opts *opts;
    struct strbuf svg;      /* the call graph as SVG, rendered on demand */
    int have_svg;
    const size_t *stack_end;    /* input i's stacks end at stack_end[i + 1],
                                 * the first begins at stack_end[0] */
    int is_diff;                /* a comparison (--base, two-count lines) */
};

/* The call graph as SVG, rendered once and kept in job->svg (for writers
 * that embed it, like the HTML report).  Returns 0 or -1 with d filled. */
static int
job_graph_svg(struct render_job *job, struct diag *d)
{
    if (job->have_svg) {
        return 0;
    }
    if (gv_render(&job->svg, job->graph, job->opts, "svg", d) != 0) {
        return -1;
    }
    job->have_svg = 1;
    return 0;
}

/* Fills the HTML report's input (html.h) from the job, rendering the
 * call graph's SVG. */
static int
job_report_input(struct render_job *job, struct report_input *in,
                 struct diag *d)
{
    if (job_graph_svg(job, d) != 0) {
        return -1;
    }
    in->prof = job->prof;
    in->graph = job->graph;
    in->graph_svg = job->svg.buf;
    in->graph_svg_len = job->svg.len;
    in->inputs = job->opts->inputs;
    in->ninputs = job->opts->ninputs;
    in->opts = job->opts;
    return 0;
}

static int
write_graph(struct strbuf *out, struct render_job *job, struct diag *d)
{
    return gv_render(out, job->graph, job->opts, job->opts->format, d);
}

static int
write_txt(struct strbuf *out, struct render_job *job, struct diag *d)
{
    return text_write(out, job->graph, job->opts, d);
}

static int
write_md(struct strbuf *out, struct render_job *job, struct diag *d)
{
    return md_write(out, job->graph, job->opts, d);
}

static int
write_html(struct strbuf *out, struct render_job *job, struct diag *d)
{
    struct report_input in;
    if (job_report_input(job, &in, d) != 0) {
        return -1;
    }
    return html_write(out, &in, d);
}

static int
write_flame(struct strbuf *out, struct render_job *job, struct diag *d)
{
    struct report_input in = {job->prof, job->graph, NULL, 0,
                              job->opts->inputs, job->opts->ninputs,
                              job->opts};
    return flame_svg_write(out, &in, d);
}

/* The conversions write one profile's samples: a comparison has two. */
static int
refuse_diff(const struct render_job *job, struct diag *d)
{
    if (job->is_diff) {
        diag_set(d, DIAG_USAGE, "error: -T %s writes one profile, not a "
                 "comparison (drop --base, or convert each side)",
                 job->opts->format);
        return -1;
    }
    return 0;
}

/* pprof: the interval from the profile where an input gave one, else
 * --interval; the version and the inputs as comments. */
static int
write_pprof(struct strbuf *out, struct render_job *job, struct diag *d)
{
    const struct render_opts *o = job->opts;
    if (refuse_diff(job, d) != 0) {
        return -1;
    }
    const char **comments = arena_alloc(job->arena, (size_t)(o->ninputs + 1)
                                        * sizeof(*comments));
    comments[0] = "plop-render " PLOP_VERSION;
    for (int i = 0; i < o->ninputs; i++) {
        const char *name = strcmp(o->inputs[i], "-") == 0 ? LOAD_STDIN_NAME
                                                          : o->inputs[i];
        size_t n = strlen(name) + 8;
        char *c = arena_alloc(job->arena, n);
        snprintf(c, n, "input: %s", name);
        comments[i + 1] = c;
    }
    struct pprof_meta m;
    m.period_ns = job->prof->period_ns;
    if (m.period_ns == 0) {
        m.period_ns = (uint64_t)(o->interval * 1e9 + 0.5);
    }
    m.comments = comments;
    m.ncomments = o->ninputs + 1;
    return pprof_write(out, job->graph, &m, d);
}

static int
write_speedscope(struct strbuf *out, struct render_job *job, struct diag *d)
{
    const struct render_opts *o = job->opts;
    if (refuse_diff(job, d) != 0) {
        return -1;
    }
    struct speedscope_meta m;
    m.title = present_title(o->title, o->inputs, o->ninputs);
    m.exporter = "plop-render " PLOP_VERSION;
    m.inputs = o->inputs;
    m.stack_begin = job->stack_end[0];
    m.stack_end = job->stack_end + 1;
    m.ninputs = o->ninputs;
    return speedscope_write(out, job->graph, &m, d);
}

struct output_format {
    const char *name;       /* for -T/--format */
    const char *ext;        /* selects it from OUT's name (longest wins) */
    int (*write)(struct strbuf *out, struct render_job *job,
                 struct diag *d);
};

static const struct output_format formats[] = {
    {"svg", ".svg", write_graph},
    {"png", ".png", write_graph},
    {"pdf", ".pdf", write_graph},
    {"dot", ".dot", write_graph},
    {"txt", ".txt", write_txt},
    {"md", ".md", write_md},
    {"html", ".html", write_html},
    {"flame.svg", ".flame.svg", write_flame},
    {"pprof", ".pb.gz", write_pprof},
    {"speedscope", ".speedscope.json", write_speedscope},
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

/* The file type of an extension: its last component (".flame.svg" is an
 * ".svg" file, ".pb.gz" a ".gz" one). */
static const char *
file_type(const char *ext)
{
    const char *dot = strrchr(ext, '.');
    return dot != NULL ? dot : ext;
}

static const struct output_format *
format_by_name(const char *name)
{
    for (size_t i = 0; i < NFORMATS; i++) {
        if (strcmp(formats[i].name, name) == 0) {
            return &formats[i];
        }
    }
    return NULL;
}

static const struct output_format *
format_by_path(const char *path)
{
    const struct output_format *best = NULL;
    size_t plen = strlen(path), best_len = 0;
    for (size_t i = 0; i < NFORMATS; i++) {
        size_t elen = strlen(formats[i].ext);
        if (elen < plen && elen > best_len
            && strcasecmp(path + plen - elen, formats[i].ext) == 0) {
            best = &formats[i];
            best_len = elen;
        }
    }
    return best;
}

static void
format_names(char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NFORMATS && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? "|" : "",
                         formats[i].name);
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
}

static void
usage(FILE *f)
{
    char names[128];
    format_names(names, sizeof(names));
    fprintf(f,
"usage: plop-render [options] PROFILE... -o OUT\n"
"\n"
"Renders plop profiles (repr-dict, collapsed stacks or pprof; several files\n"
"are merged, '-' is standard input) as a pruned call graph, or converts\n"
"them to pprof or speedscope.\n"
"\n"
"  -o, --output OUT       where to write; '-' is standard output (required)\n"
"  -T, --format FMT       %s\n"
"                         (default: from OUT's extension; svg for '-')\n"
"  --granularity G        function (a function's lines merged) or line\n"
"                         (default: function)\n"
"  --node-fraction F      hide context functions below F of all samples\n"
"                         (the hot ones always show) (default: %g)\n"
"  --max-nodes N          show at most N functions, 0 for all (default: %d,\n"
"                         grown to hold %d %% of self samples: up to %d\n"
"                         linked functions and %d leaves)\n"
"  --edge-fraction F      hide calls below F of all samples (default: %g)\n"
"  --focus REGEX          keep only stacks with a function or file matching\n"
"                         REGEX (POSIX extended; default: none)\n"
"  --ignore REGEX         drop stacks with a function or file matching\n"
"                         REGEX (default: none)\n"
"  --color MODE           file (a colour per source file) or heat (by self\n"
"                         samples) (default: file)\n"
"  --view VIEW           graph or flame: with an .svg output (or -o -),\n"
"                         flame writes the flame graph (-T flame.svg)\n"
"                         (default: graph)\n"
"  --title TEXT           the picture's title (default: the first\n"
"                         PROFILE's file name)\n"
"  --interval SECONDS     time per sample for pprof's cpu values when the\n"
"                         profile does not say (default: %g)\n"
"  --base OLD             compare with the profile OLD (repeatable: several\n"
"                         are merged): PROFILE is drawn coloured by change,\n"
"                         red grew, green shrank, grey held\n"
"  --diff-mode MODE       share (each side's share of its own total) or\n"
"                         absolute (sample counts) (default: share)\n"
"  --fail-if EXPR         exit %d when EXPR holds (repeatable), e.g.\n"
"                         'self(json)>15%%', 'incl(app.py:render)>40%%',\n"
"                         'total<1000', 'grow(self, mypkg.db)>5' (points);\n"
"                         outputs are written all the same\n"
"  --stats                print timings and sizes of each step to stderr\n"
"  -h, --help             show this help and exit\n"
"  --version              show the version and exit\n"
"\n"
"Reading the graph: a box is a function; its size grows with its self\n"
"samples (time spent in it), its label gives self %% and inclusive %% (time\n"
"in it and its callees).  An arrow is a call; its thickness grows with the\n"
"samples that went through it.  A dotted arrow passes through hidden\n"
"frames; its label says how many.  A dashed box holds the functions left\n"
"out below its caller: how many, their self %%, the most one holds.\n"
"\n"
"Exit status:\n"
"  %d  success\n"
"  %d  bad command line, regex or --fail-if, or no samples left after\n"
"     --focus/--ignore\n"
"  %d  cannot read an input or write the output\n"
"  %d  malformed profile, or one past a limit\n"
"  %d  Graphviz failed to lay out or render the graph\n"
"  %d  out of memory\n"
"  %d  a --fail-if budget is broken (one line each on stderr)\n",
            names, RENDER_DEFAULT_NODE_FRACTION, RENDER_DEFAULT_MAX_NODES,
            (int)(PRUNE_GOAL_SMALL * 100 + 0.5), PRUNE_AUTO_MAX_NODES,
            PRUNE_AUTO_MAX_LEAVES, RENDER_DEFAULT_EDGE_FRACTION, RENDER_DEFAULT_INTERVAL,
            PLOP_EXIT_BUDGET, PLOP_EXIT_OK,
            PLOP_EXIT_USAGE, PLOP_EXIT_IO, PLOP_EXIT_PARSE, PLOP_EXIT_LAYOUT,
            PLOP_EXIT_NOMEM, PLOP_EXIT_BUDGET);
}

static int
parse_fraction(const char *opt, const char *s, double *out, struct diag *d)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0 && v <= 1)) {
        diag_set(d, DIAG_USAGE, "error: %s wants a number between 0 and 1, "
                 "not '%s'", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int
compile_regex(const char *opt, const char *src, regex_t *re, struct diag *d)
{
    int rc = regcomp(re, src, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[256];
        regerror(rc, re, why, sizeof(why));
        regfree(re);
        diag_set(d, DIAG_USAGE, "error: invalid regex '%s' for %s: %s", src,
                 opt, why);
        return -1;
    }
    return 0;
}

enum {
    OPT_GRANULARITY = 256,
    OPT_NODE_FRACTION,
    OPT_MAX_NODES,
    OPT_EDGE_FRACTION,
    OPT_FOCUS,
    OPT_IGNORE,
    OPT_COLOR,
    OPT_TITLE,
    OPT_STATS,
    OPT_VIEW,
    OPT_BASE,
    OPT_DIFF_MODE,
    OPT_FAIL_IF,
    OPT_INTERVAL,
    OPT_VERSION
};

/* --stats: print phase timings and sizes to stderr (never to the output,
 * which stays deterministic). */
static int show_stats;
static int view_flame;          /* --view flame */

static const struct option long_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"format", required_argument, NULL, 'T'},
    {"granularity", required_argument, NULL, OPT_GRANULARITY},
    {"node-fraction", required_argument, NULL, OPT_NODE_FRACTION},
    {"max-nodes", required_argument, NULL, OPT_MAX_NODES},
    {"edge-fraction", required_argument, NULL, OPT_EDGE_FRACTION},
    {"focus", required_argument, NULL, OPT_FOCUS},
    {"ignore", required_argument, NULL, OPT_IGNORE},
    {"color", required_argument, NULL, OPT_COLOR},
    {"title", required_argument, NULL, OPT_TITLE},
    {"stats", no_argument, NULL, OPT_STATS},
    {"view", required_argument, NULL, OPT_VIEW},
    {"base", required_argument, NULL, OPT_BASE},
    {"diff-mode", required_argument, NULL, OPT_DIFF_MODE},
    {"fail-if", required_argument, NULL, OPT_FAIL_IF},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0}
};

/* What parse_args() asks main() to do. */
enum action { ACT_RENDER, ACT_EXIT_OK };

static int
parse_one(int c, const char *arg, struct render_opts *o, struct diag *d)
{
    char *end;
    long v;
    switch (c) {
    case 'o':
        o->output = arg;
        return 0;
    case 'T':
        o->format = arg;
        return 0;
    case OPT_GRANULARITY:
        if (strcmp(arg, "function") == 0) {
            o->granularity = RENDER_GRAN_FUNCTION;
        } else if (strcmp(arg, "line") == 0) {
            o->granularity = RENDER_GRAN_LINE;
        } else {
            diag_set(d, DIAG_USAGE, "error: --granularity wants 'function' "
                     "or 'line', not '%s'", arg);
            return -1;
        }
        return 0;
    case OPT_NODE_FRACTION:
        return parse_fraction("--node-fraction", arg, &o->node_fraction, d);
    case OPT_EDGE_FRACTION:
        return parse_fraction("--edge-fraction", arg, &o->edge_fraction, d);
    case OPT_MAX_NODES:
        errno = 0;
        v = strtol(arg, &end, 10);
        if (errno != 0 || end == arg || *end != '\0' || v < 0
            || v > 1000000) {
            diag_set(d, DIAG_USAGE, "error: --max-nodes wants a number from "
                     "0 to 1000000, not '%s'", arg);
            return -1;
        }
        o->max_nodes = (int)v;
        o->max_nodes_given = 1;
        return 0;
    case OPT_FOCUS:
        if (o->has_focus) {
            regfree(&o->focus_re);
            o->has_focus = 0;
        }
        if (compile_regex("--focus", arg, &o->focus_re, d) != 0) {
            return -1;
        }
        o->focus = arg;
        o->has_focus = 1;
        return 0;
    case OPT_IGNORE:
        if (o->has_ignore) {
            regfree(&o->ignore_re);
            o->has_ignore = 0;
        }
        if (compile_regex("--ignore", arg, &o->ignore_re, d) != 0) {
            return -1;
        }
        o->ignore = arg;
        o->has_ignore = 1;
        return 0;
    case OPT_COLOR:
        if (strcmp(arg, "file") == 0) {
            o->color = RENDER_COLOR_FILE;
        } else if (strcmp(arg, "heat") == 0) {
            o->color = RENDER_COLOR_HEAT;
        } else {
            diag_set(d, DIAG_USAGE, "error: --color wants 'file' or 'heat', "
                     "not '%s'", arg);
            return -1;
        }
        return 0;
    case OPT_TITLE:
        o->title = arg;
        return 0;
    case OPT_VIEW:
        if (strcmp(arg, "graph") == 0) {
            view_flame = 0;
        } else if (strcmp(arg, "flame") == 0) {
            view_flame = 1;
        } else {
            diag_set(d, DIAG_USAGE, "error: --view wants 'graph' or 'flame', "
                     "not '%s'", arg);
            return -1;
        }
        return 0;
    case OPT_STATS:
        show_stats = 1;
        return 0;
    case OPT_INTERVAL: {
        char *iend;
        errno = 0;
        double iv = strtod(arg, &iend);
        if (errno != 0 || iend == arg || *iend != '\0' || !(iv >= 1e-9)
            || !(iv <= 1e6)) {
            diag_set(d, DIAG_USAGE, "error: --interval wants seconds from "
                     "1e-9 to 1e6, not '%s'", arg);
            return -1;
        }
        o->interval = iv;
        return 0;
    }
    case OPT_BASE:
        ((const char **)o->bases)[o->nbases++] = arg;
        return 0;
    case OPT_DIFF_MODE:
        if (strcmp(arg, "share") == 0) {
            o->diff_mode = RENDER_DIFF_SHARE;
        } else if (strcmp(arg, "absolute") == 0) {
            o->diff_mode = RENDER_DIFF_ABSOLUTE;
        } else {
            diag_set(d, DIAG_USAGE, "error: --diff-mode wants 'share' or "
                     "'absolute', not '%s'", arg);
            return -1;
        }
        return 0;
    case OPT_FAIL_IF:
        if (budget_parse(&o->budgets[o->nbudgets], arg, d) != 0) {
            return -1;
        }
        o->nbudgets++;
        return 0;
    }
    diag_set(d, DIAG_USAGE, "error: unknown option");
    return -1;
}

/*
 * Fills o from argv.  Returns 0 with *act set, or -1 with d filled
 * (getopt's own message about an unknown option was already printed).
 */
static int
parse_args(int argc, char **argv, struct render_opts *o, enum action *act,
           const struct output_format **fmt, struct diag *d)
{
    int c;
    *act = ACT_RENDER;
    opterr = 0;
    /* Room for every --base and --fail-if argv can hold. */
    o->bases = calloc((size_t)argc + 1, sizeof(*o->bases));
    o->budgets = calloc((size_t)argc + 1, sizeof(*o->budgets));
    if (o->bases == NULL || o->budgets == NULL) {
        die_nomem(((size_t)argc + 1) * sizeof(*o->budgets));
    }
    while ((c = getopt_long(argc, argv, ":o:T:h", long_options, NULL))
           != -1) {
        if (c == 'h') {
            usage(stdout);
            *act = ACT_EXIT_OK;
            return 0;
        } else if (c == OPT_VERSION) {
            printf("plop-render %s\n", PLOP_VERSION);
            *act = ACT_EXIT_OK;
            return 0;
        } else if (c == '?') {
            diag_set(d, DIAG_USAGE, "error: unknown option '%s'",
                     argv[optind - 1]);
            return -1;
        } else if (c == ':') {
            diag_set(d, DIAG_USAGE, "error: option '%s' needs a value",
                     argv[optind - 1]);
            return -1;
        }
        if (parse_one(c, optarg, o, d) != 0) {
            return -1;
        }
    }
    if (optind >= argc) {
        diag_set(d, DIAG_USAGE, "error: no profile given");
        return -1;
    }
    o->inputs = (const char *const *)(argv + optind);
    o->ninputs = argc - optind;
    int nstdin = 0;
    for (int i = 0; i < o->ninputs; i++) {
        nstdin += strcmp(o->inputs[i], "-") == 0;
    }
    for (int i = 0; i < o->nbases; i++) {
        nstdin += strcmp(o->bases[i], "-") == 0;
    }
    if (nstdin > 1) {
        diag_set(d, DIAG_USAGE, "error: standard input ('-') given twice");
        return -1;
    }
    if (o->output == NULL) {
        diag_set(d, DIAG_USAGE, "error: no output given (use -o OUT, or "
                 "-o - for standard output)");
        return -1;
    }
    if (o->format != NULL) {
        *fmt = format_by_name(o->format);
        if (*fmt == NULL) {
            char names[128];
            format_names(names, sizeof(names));
            diag_set(d, DIAG_USAGE, "error: unknown format '%s' (use %s)",
                     o->format, names);
            return -1;
        }
    } else if (strcmp(o->output, "-") == 0) {
        *fmt = format_by_name("svg");
    } else {
        *fmt = format_by_path(o->output);
        if (*fmt == NULL) {
            diag_set(d, DIAG_USAGE, "error: cannot tell the format of '%s' "
                     "from its name (use -T)", o->output);
            return -1;
        }
    }
    if (view_flame) {
        if (strcmp((*fmt)->name, "svg") == 0) {
            *fmt = format_by_name("flame.svg");
        } else if (strcmp((*fmt)->name, "flame.svg") != 0
                   && o->format != NULL) {
            diag_set(d, DIAG_USAGE, "error: --view flame writes a .svg file, "
                     "not -T %s (the html report holds both views)",
                     (*fmt)->name);
            return -1;
        } else if (strcmp((*fmt)->name, "flame.svg") != 0) {
            diag_set(d, DIAG_USAGE, "error: --view flame writes a .svg file, "
                     "but '%s' is named %s (rename it; the html report holds "
                     "both views)", o->output, file_type((*fmt)->ext));
            return -1;
        }
    }
    /* One rule for -T, --view and OUT's name: a name that says a file
     * type gets that type. */
    const struct output_format *named = strcmp(o->output, "-") == 0
                                        ? NULL : format_by_path(o->output);
    if (named != NULL
        && strcmp(file_type(named->ext), file_type((*fmt)->ext)) != 0) {
        diag_set(d, DIAG_USAGE, "error: -T %s writes a %s file, but '%s' is "
                 "named %s (rename it, or leave -T out)", (*fmt)->name,
                 file_type((*fmt)->ext), o->output, file_type(named->ext));
        return -1;
    }
    o->format = (*fmt)->name;
    return 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/*
 * Puts buf on disk as `path` in one go: a temporary file next to it
 * (same directory, so rename() is atomic), then rename.  On failure the
 * temporary file is removed and `path` is untouched.  "-" is stdout.
 */
static int
write_output(struct arena *a, const char *path, const char *buf,
             size_t len, struct diag *d)
{
    if (strcmp(path, "-") == 0) {
        if (write_all(STDOUT_FILENO, buf, len) != 0) {
            diag_set(d, DIAG_IO, "error: cannot write to standard output: "
                     "%s", strerror(errno));
            return -1;
        }
        return 0;
    }
    size_t plen = strlen(path);
    char *tmp = arena_alloc(a, plen + 16);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        diag_set(d, DIAG_IO, "error: cannot create '%s': %s", path,
                 strerror(errno));
        return -1;
    }
    mode_t mask = umask(0);
    umask(mask);
    int err = 0;
    if (fchmod(fd, 0666 & ~mask) != 0 || write_all(fd, buf, len) != 0) {
        err = errno;
    }
    if (close(fd) != 0 && err == 0) {
        err = errno;
    }
    if (err == 0 && rename(tmp, path) != 0) {
        err = errno;
    }
    if (err != 0) {
        unlink(tmp);
        diag_set(d, DIAG_IO, "error: cannot write '%s': %s", path,
                 strerror(err));
        return -1;
    }
    return 0;
}

static double
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
print_stats(struct arena *a, const struct render_opts *o,
            const struct profile *prof, const struct graph *g,
            const double *t)
{
    unsigned long long bytes = 0;
    struct stat st;
    for (int i = 0; i < o->ninputs + o->nbases; i++) {
        const char *in = i < o->ninputs ? o->inputs[i]
                                        : o->bases[i - o->ninputs];
        if (strcmp(in, "-") != 0 && stat(in, &st) == 0) {
            bytes += (unsigned long long)st.st_size;
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double load = t[1] - t[0];
    fprintf(stderr, "stats: input_bytes=%llu stacks=%zu frames=%u "
            "samples=%llu nodes=%u edges=%zu shown_nodes=%u "
            "shown_edges=%zu tails=%u\n", bytes, prof->nstacks,
            prof->nframes, (unsigned long long)prof->total, g->nnodes,
            g->nedges, g->nshown, g->nshown_edges, g->ntails);
    fprintf(stderr, "stats: load_s=%.4f load_mb_s=%.1f graph_s=%.4f "
            "prune_s=%.4f output_s=%.4f layout_s=%.4f write_s=%.4f "
            "total_s=%.4f peak_rss_kb=%ld arena_kb=%zu\n", load,
            load > 0 ? (double)bytes / 1e6 / load : 0.0, t[2] - t[1],
            t[3] - t[2], t[4] - t[3],
            strcmp(o->format, "txt") == 0 ? 0.0 : gv_layout_seconds(),
            t[5] - t[4], t[5] - t[0], ru.ru_maxrss, arena_bytes(a) / 1024);
}

static int
run(struct arena *a, struct render_opts *o, const struct output_format *fmt,
    struct diag *d)
{
    double t[6];
    struct profile prof;
    t[0] = now_seconds();
    profile_init(&prof, a);
    prof.side = PROFILE_SIDE_BASE;
    for (int i = 0; i < o->nbases; i++) {
        if (load_file(&prof, o->bases[i], d) != 0) {
            return -1;
        }
    }
    prof.side = PROFILE_SIDE_NEW;
    size_t *stack_end = arena_alloc(a, (size_t)(o->ninputs + 1)
                                    * sizeof(*stack_end));
    stack_end[0] = prof.nstacks;
    for (int i = 0; i < o->ninputs; i++) {
        if (load_file(&prof, o->inputs[i], d) != 0) {
            return -1;
        }
        stack_end[i + 1] = prof.nstacks;
    }
    t[1] = now_seconds();
    struct graph g;
    if (graph_build(&g, a, &prof, o, d) != 0) {
        return -1;
    }
    int is_diff = o->nbases > 0 || prof.has_pairs;
    struct diff df;
    if (is_diff) {
        diff_build(&df, a, &g, o->diff_mode);
        diff_pin_changes(&df, &g, a, o);
    }
    t[2] = now_seconds();
    graph_prune(&g, a, o);
    if (is_diff) {
        diff_after_prune(&df, &g, a);
    }
    t[3] = now_seconds();

    /* Budgets are measured before anything is written, so a grow()
     * without a base stops here with exit 2 and no output. */
    struct budget_scope scope = {&prof, is_diff ? df.kept_both
                                                : g.stack_kept,
                                 is_diff, o->diff_mode};
    for (int i = 0; i < o->nbudgets; i++) {
        if (budget_eval(&o->budgets[i], a, &scope, d) != 0) {
            return -1;
        }
    }

    struct render_job job;
    job.arena = a;
    job.prof = &prof;
    job.graph = &g;
    job.opts = o;
    strbuf_init(&job.svg, a);
    job.have_svg = 0;
    job.stack_end = stack_end;
    job.is_diff = is_diff;

    struct strbuf out;
    strbuf_init(&out, a);
    if (fmt->write(&out, &job, d) != 0) {
        return -1;
    }
    t[4] = now_seconds();
    if (write_output(a, o->output, out.buf ? out.buf : "", out.len, d) != 0) {
        return -1;
    }
    t[5] = now_seconds();
    if (show_stats) {
        print_stats(a, o, &prof, &g, t);
    }
    int broken = 0;
    for (int i = 0; i < o->nbudgets; i++) {
        const struct budget *b = &o->budgets[i];
        if (b->broken) {
            char what[160];
            budget_describe(b, what, sizeof(what));
            fprintf(stderr, "error: budget '%s' is broken: %s\n", b->text,
                    what);
            broken = 1;
        }
    }
    return broken ? 1 : 0;
}

int
main(int argc, char **argv)
{
    struct render_opts o;
    struct diag d;
    enum action act;
    const struct output_format *fmt = NULL;
    render_opts_init(&o);
    d.kind = DIAG_NONE;
    d.msg[0] = '\0';

    int rc = parse_args(argc, argv, &o, &act, &fmt, &d);
    int broken = 0, exit_ok = rc == 0 && act == ACT_EXIT_OK;
    if (rc == 0 && !exit_ok) {
        struct arena *a = arena_new();
        rc = run(a, &o, fmt, &d);
        arena_free(a);
        if (rc > 0) {
            broken = 1;
            rc = 0;
        }
    }
    for (int i = 0; i < o.nbudgets; i++) {
        budget_release(&o.budgets[i]);
    }
    free((void *)o.bases);
    free(o.budgets);
    if (o.has_focus) {
        regfree(&o.focus_re);
    }
    if (o.has_ignore) {
        regfree(&o.ignore_re);
    }
    if (exit_ok) {
        return fflush(stdout) == 0 ? PLOP_EXIT_OK : PLOP_EXIT_IO;
    }
    if (rc != 0) {
        fputs(d.msg, stderr);
        if (d.kind == DIAG_USAGE) {
            fputs("try 'plop-render --help'\n", stderr);
        }
        return plop_exit_code(d.kind);
    }
    return broken ? PLOP_EXIT_BUDGET : PLOP_EXIT_OK;
}
