/*
 * opts.h: the plop-render options that the graph, the layout and the
 * writers (gv.c, text.c, html.c, flame.c) read, as main.c parses them.
 * Options that only steer main.c itself (--view, --stats, --help,
 * --version) stay there.  Nothing here allocates; the strings point into
 * argv.
 *
 * Defaults (render_opts_init) follow pprof: node fraction 0.005, at most
 * 80 nodes, edge fraction 0.001.  --help in main.c prints the same values
 * from the RENDER_DEFAULT_* constants below.
 */
#ifndef PLOP_OPTS_H
#define PLOP_OPTS_H

#include <regex.h>
#include <stddef.h>

struct budget;

#define RENDER_DEFAULT_NODE_FRACTION 0.005
#define RENDER_DEFAULT_EDGE_FRACTION 0.001
#define RENDER_DEFAULT_MAX_NODES 80
#define RENDER_DEFAULT_INTERVAL 0.01   /* seconds per sample (pprof's cpu) */

/* What a node of the graph stands for (--granularity). */
enum render_granularity {
    /* (file, func): a function's lines are merged, its line is the
     * smallest line seen for it.  The default. */
    RENDER_GRAN_FUNCTION = 0,
    /* (file, line, func): one node per distinct frame. */
    RENDER_GRAN_LINE = 1
};

/* How nodes are coloured (--color); see present_node_color() in present.h. */
enum render_color {
    RENDER_COLOR_FILE = 0,  /* one hue per source file, as the old viewer */
    RENDER_COLOR_HEAT = 1   /* pale to red by self samples */
};

/* What a comparison compares (--diff-mode); see diff.h. */
enum render_diff_mode {
    RENDER_DIFF_SHARE = 0,      /* each side's share of its own total */
    RENDER_DIFF_ABSOLUTE = 1    /* sample counts */
};

struct render_opts {
    const char *const *inputs;  /* profile paths as given ("-" is stdin) */
    int ninputs;
    const char *output;         /* path, or "-" for stdout; never NULL
                                 * once main.c accepted the command line */
    const char *format;         /* writer name: a row of main.c's table
                                 * ("svg", "txt", "html", "pprof", ...) */
    enum render_granularity granularity;
    double node_fraction;       /* drop nodes below this share of total */
    double edge_fraction;       /* drop edges below this share of total */
    int max_nodes;              /* keep at most this many nodes; 0: all */
    int max_nodes_given;        /* --max-nodes was given: max_nodes is a
                                 * hard limit (else the default budget may
                                 * grow, see graph_prune()) */

    /*
     * --focus / --ignore, POSIX extended regexes compiled by main.c with
     * regcomp(REG_EXTENDED | REG_NOSUB).  A frame matches when the regex
     * matches its function name or its file name.  A stack is kept when
     * (no focus, or some frame matches focus) and (no ignore, or no frame
     * matches ignore).  focus/ignore are the source texts (NULL when not
     * given); has_focus/has_ignore say whether focus_re/ignore_re hold a
     * compiled regex (main.c regfree()s them).
     */
    const char *focus;
    const char *ignore;
    regex_t focus_re;
    regex_t ignore_re;
    int has_focus;
    int has_ignore;

    enum render_color color;
    const char *title;          /* NULL: the first input's base name */
    double interval;            /* seconds per sample for pprof's cpu
                                 * values when no input says (--interval) */

    /* A comparison (diff.h): --base profiles (argv strings in an array
     * main.c allocates) and --diff-mode. */
    const char *const *bases;
    int nbases;
    enum render_diff_mode diff_mode;

    /* --fail-if budgets (budget.h), parsed by main.c, measured after the
     * graph is built; -T md lists them with their results. */
    struct budget *budgets;
    int nbudgets;
};

/* Fills o with the defaults: every pointer NULL, format NULL (main.c
 * picks it from the output's extension). */
static inline void
render_opts_init(struct render_opts *o)
{
    o->inputs = NULL;
    o->ninputs = 0;
    o->output = NULL;
    o->format = NULL;
    o->granularity = RENDER_GRAN_FUNCTION;
    o->node_fraction = RENDER_DEFAULT_NODE_FRACTION;
    o->edge_fraction = RENDER_DEFAULT_EDGE_FRACTION;
    o->max_nodes = RENDER_DEFAULT_MAX_NODES;
    o->max_nodes_given = 0;
    o->focus = NULL;
    o->ignore = NULL;
    o->has_focus = 0;
    o->has_ignore = 0;
    o->color = RENDER_COLOR_FILE;
    o->title = NULL;
    o->interval = RENDER_DEFAULT_INTERVAL;
    o->bases = NULL;
    o->nbases = 0;
    o->diff_mode = RENDER_DIFF_SHARE;
    o->budgets = NULL;
    o->nbudgets = 0;
}

#endif
