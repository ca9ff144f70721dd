/*
 * test_budget.c: --fail-if budgets (render/budget.c): the grammar, the
 * caret of every kind of malformed expression, and the measured values
 * on profiles with known counts (self, inclusive counted once per sample
 * under recursion, shares, grow() in points and in samples, the "file:func"
 * form of the matcher, --focus's kept stacks).
 */
#include <string.h>

#include "arena.h"
#include "budget.h"
#include "check.h"
#include "profile.h"

static struct arena *A;
static struct diag d;

static const char *
perr(const char *text)
{
    struct budget b;
    memset(&d, 0, sizeof(d));
    CHECK_EQ_INT(budget_parse(&b, text, &d), -1);
    CHECK_EQ_INT(d.kind, DIAG_USAGE);
    return d.msg;
}

static void
test_parse_forms(void)
{
    struct budget b;
    CHECK_EQ_INT(budget_parse(&b, "self(json.decoder)>15%", &d), 0);
    CHECK_EQ_INT(b.metric, BUDGET_SELF);
    CHECK_EQ_INT(b.op, BUDGET_GT);
    CHECK(b.limit == 15.0);
    CHECK_EQ_INT(b.percent, 1);
    CHECK_EQ_INT(b.has_re, 1);
    budget_release(&b);
    CHECK_EQ_INT(b.has_re, 0);

    CHECK_EQ_INT(budget_parse(&b, " incl( myapp/handlers.py:render ) >= "
                              "40.5 % ", &d), 0);
    CHECK_EQ_INT(b.metric, BUDGET_INCL);
    CHECK_EQ_INT(b.op, BUDGET_GE);
    CHECK(b.limit == 40.5);
    CHECK_EQ_INT((int)b.limit_len, 4);
    budget_release(&b);

    CHECK_EQ_INT(budget_parse(&b, "total<1000", &d), 0);
    CHECK_EQ_INT(b.metric, BUDGET_TOTAL);
    CHECK_EQ_INT(b.op, BUDGET_LT);
    CHECK(b.limit == 1000.0);
    CHECK_EQ_INT(b.percent, 0);
    CHECK_EQ_INT(b.has_re, 0);

    CHECK_EQ_INT(budget_parse(&b, "grow(self, mypkg.db)>5", &d), 0);
    CHECK_EQ_INT(b.metric, BUDGET_GROW_SELF);
    budget_release(&b);
    CHECK_EQ_INT(budget_parse(&b, "grow(incl,x)<=-2.5", &d), 0);
    CHECK_EQ_INT(b.metric, BUDGET_GROW_INCL);
    CHECK_EQ_INT(b.op, BUDGET_LE);
    CHECK(b.limit == -2.5);
    budget_release(&b);

    /* Parentheses inside the regex balance; a backslash escapes. */
    CHECK_EQ_INT(budget_parse(&b, "self((a|b)c\\)d)>1", &d), 0);
    CHECK(regexec(&b.re, "bc)d", 0, NULL, 0) == 0);
    CHECK(regexec(&b.re, "bcd", 0, NULL, 0) != 0);
    budget_release(&b);
}

static void
test_parse_errors(void)
{
    CHECK_STR(perr("self(json)=15%"),
              "--fail-if:1:11: error: expected '>', '>=', '<' or '<='\n"
              "    self(json)=15%\n"
              "              ^\n");
    CHECK_STR(perr("slef(x)>1"),
              "--fail-if:1:1: error: expected 'total', 'self(REGEX)', "
              "'incl(REGEX)' or 'grow(self|incl, REGEX)'\n"
              "    slef(x)>1\n"
              "    ^\n");
    CHECK_STR(perr("self(json>15%"),
              "--fail-if:1:14: error: expected ')' to close the function "
              "regex\n"
              "    self(json>15%\n"
              "                 ^\n");
    CHECK_STR(perr("self json>1"),
              "--fail-if:1:6: error: expected '(' after 'self' or 'incl'\n"
              "    self json>1\n"
              "         ^\n");
    CHECK_STR(perr("self()>1"),
              "--fail-if:1:6: error: expected a function regex\n"
              "    self()>1\n"
              "         ^\n");
    CHECK_STR(perr("self(x)>abc"),
              "--fail-if:1:9: error: expected a number\n"
              "    self(x)>abc\n"
              "            ^\n");
    CHECK_STR(perr("self(x)>1.%"),
              "--fail-if:1:11: error: expected digits after '.'\n"
              "    self(x)>1.%\n"
              "              ^\n");
    CHECK_STR(perr("total<10%"),
              "--fail-if:1:9: error: 'total' is a number of samples, not a "
              "share: drop the '%'\n"
              "    total<10%\n"
              "            ^\n");
    CHECK_STR(perr("grow(self, x)>5%"),
              "--fail-if:1:16: error: grow() is measured in points of share "
              "(or samples): drop the '%'\n"
              "    grow(self, x)>5%\n"
              "                   ^\n");
    CHECK_STR(perr("grow(time, x)>5"),
              "--fail-if:1:6: error: expected 'self' or 'incl' as grow's "
              "first argument\n"
              "    grow(time, x)>5\n"
              "         ^\n");
    CHECK_STR(perr("grow(self x)>5"),
              "--fail-if:1:11: error: expected ',' after grow's first "
              "argument\n"
              "    grow(self x)>5\n"
              "              ^\n");
    CHECK_STR(perr("total<10 ms"),
              "--fail-if:1:10: error: unexpected 'm' after the limit\n"
              "    total<10 ms\n"
              "             ^\n");
    CHECK_STR(perr(""),
              "--fail-if:1:1: error: expected 'total', 'self(REGEX)', "
              "'incl(REGEX)' or 'grow(self|incl, REGEX)'\n"
              "    \n"
              "    ^\n");
    /* A regex regcomp refuses: the caret at its start. */
    const char *m = perr("self(a{1)>1");
    CHECK(strncmp(m, "--fail-if:1:6: error: invalid regex: ", 37) == 0);
}

static uint32_t
fr(struct profile *p, const char *file, const char *func)
{
    int64_t id = profile_intern(p, file, strlen(file), 1, func,
                                strlen(func));
    CHECK(id >= 0);
    return (uint32_t)id;
}

/*
 * Base side: main>work 60, main>work>work (recursion) 20, main 20: 100.
 * New side:  main>work 30, main>db 150, main>db>app.py:render 20: 200.
 */
static void
build(struct profile *p)
{
    profile_init(p, A);
    uint32_t main_ = fr(p, "app.py", "main");
    uint32_t work = fr(p, "app.py", "work");
    uint32_t db = fr(p, "mypkg/db.py", "query");
    uint32_t render = fr(p, "app.py", "render");
    uint32_t s1[] = {work, main_}, s2[] = {work, work, main_}, s3[] = {main_};
    uint32_t s4[] = {db, main_}, s5[] = {render, db, main_};
    p->side = PROFILE_SIDE_BASE;
    CHECK_EQ_INT(profile_add_stack(p, s1, 2, 60), 0);
    CHECK_EQ_INT(profile_add_stack(p, s2, 3, 20), 0);
    CHECK_EQ_INT(profile_add_stack(p, s3, 1, 20), 0);
    p->side = PROFILE_SIDE_NEW;
    CHECK_EQ_INT(profile_add_stack(p, s1, 2, 30), 0);
    CHECK_EQ_INT(profile_add_stack(p, s4, 2, 150), 0);
    CHECK_EQ_INT(profile_add_stack(p, s5, 3, 20), 0);
    CHECK_EQ_INT((int)p->side_total[0], 100);
    CHECK_EQ_INT((int)p->side_total[1], 200);
}

static double
measure(const struct profile *p, const char *text, int diff,
        enum render_diff_mode mode, const unsigned char *kept, int *broken)
{
    struct budget b;
    struct budget_scope s = {p, kept, diff, mode};
    CHECK_EQ_INT(budget_parse(&b, text, &d), 0);
    CHECK_EQ_INT(budget_eval(&b, A, &s, &d), 0);
    budget_release(&b);
    if (broken != NULL) {
        *broken = b.broken;
    }
    return b.value;
}

#define NEAR(a, b) CHECK((a) > (b) - 1e-9 && (a) < (b) + 1e-9)

static void
test_eval_values(void)
{
    struct profile p;
    build(&p);
    int br;
    NEAR(measure(&p, "total<1000", 1, 0, NULL, &br), 200);
    CHECK_EQ_INT(br, 1);
    NEAR(measure(&p, "total<200", 1, 0, NULL, &br), 200);
    CHECK_EQ_INT(br, 0);
    NEAR(measure(&p, "total<=200", 1, 0, NULL, &br), 200);
    CHECK_EQ_INT(br, 1);
    /* New side: work is the leaf in 30 of 200. */
    NEAR(measure(&p, "self(^work$)>15%", 1, 0, NULL, &br), 15.0);
    CHECK_EQ_INT(br, 0);
    NEAR(measure(&p, "self(^work$)>=15%", 1, 0, NULL, &br), 15.0);
    CHECK_EQ_INT(br, 1);
    NEAR(measure(&p, "self(^work$)>29", 1, 0, NULL, &br), 30);
    CHECK_EQ_INT(br, 1);
    /* The file alone, and "file:func". */
    NEAR(measure(&p, "incl(mypkg/)>1%", 1, 0, NULL, NULL), 85.0);
    NEAR(measure(&p, "incl(app.py:render)>1%", 1, 0, NULL, NULL), 10.0);
    NEAR(measure(&p, "self(db.py:query$)>1%", 1, 0, NULL, NULL), 75.0);
    /* No match is 0, not an error. */
    NEAR(measure(&p, "self(nothing)>0%", 1, 0, NULL, &br), 0.0);
    CHECK_EQ_INT(br, 0);
}

static void
test_eval_grow(void)
{
    struct profile p;
    build(&p);
    int br;
    /* work: self 80/100 = 80 % -> 30/200 = 15 %: -65 points. */
    NEAR(measure(&p, "grow(self, ^work$)>5", 1, RENDER_DIFF_SHARE, NULL,
                 &br), -65.0);
    CHECK_EQ_INT(br, 0);
    NEAR(measure(&p, "grow(self, ^work$)<-60", 1, RENDER_DIFF_SHARE, NULL,
                 &br), -65.0);
    CHECK_EQ_INT(br, 1);
    /* Inclusive counts the recursive stack once: base 80 %, new 15 %. */
    NEAR(measure(&p, "grow(incl, ^work$)>5", 1, RENDER_DIFF_SHARE, NULL,
                 NULL), -65.0);
    /* query: 0 % -> 85 % inclusive. */
    NEAR(measure(&p, "grow(incl, query)>5", 1, RENDER_DIFF_SHARE, NULL,
                 &br), 85.0);
    CHECK_EQ_INT(br, 1);
    /* Absolute: samples, 30 - 80. */
    NEAR(measure(&p, "grow(self, ^work$)>5", 1, RENDER_DIFF_ABSOLUTE, NULL,
                 NULL), -50.0);

    struct budget b;
    struct budget_scope s = {&p, NULL, 0, RENDER_DIFF_SHARE};
    CHECK_EQ_INT(budget_parse(&b, "grow(self, x)>5", &d), 0);
    CHECK_EQ_INT(budget_eval(&b, A, &s, &d), -1);
    CHECK_EQ_INT(d.kind, DIAG_USAGE);
    CHECK_STR(d.msg, "error: --fail-if 'grow(self, x)>5' compares with a "
              "base profile: give one with --base\n");
    budget_release(&b);
}

static void
test_eval_kept_and_describe(void)
{
    struct profile p;
    build(&p);
    /* Only the new side's stacks with query (as --focus query would). */
    unsigned char kept[] = {1, 1, 1, 0, 1, 1};
    NEAR(measure(&p, "total<1", 1, 0, kept, NULL), 170);
    NEAR(measure(&p, "self(query)>1%", 1, 0, kept, NULL),
         100.0 * 150 / 170);

    struct budget b;
    struct budget_scope s = {&p, NULL, 1, RENDER_DIFF_SHARE};
    char buf[128];
    CHECK_EQ_INT(budget_parse(&b, "self(query)>15%", &d), 0);
    CHECK_EQ_INT(budget_eval(&b, A, &s, &d), 0);
    budget_describe(&b, buf, sizeof(buf));
    CHECK_STR(buf, "measured 75.00 %, limit 15 %");
    budget_release(&b);
    CHECK_EQ_INT(budget_parse(&b, "grow(self, query)>5", &d), 0);
    CHECK_EQ_INT(budget_eval(&b, A, &s, &d), 0);
    budget_describe(&b, buf, sizeof(buf));
    CHECK_STR(buf, "measured +75.00 points, limit 5 points");
    budget_release(&b);
    CHECK_EQ_INT(budget_parse(&b, "total<1000", &d), 0);
    CHECK_EQ_INT(budget_eval(&b, A, &s, &d), 0);
    budget_describe(&b, buf, sizeof(buf));
    CHECK_STR(buf, "measured 200 samples, limit 1000 samples");
    budget_release(&b);
    s.mode = RENDER_DIFF_ABSOLUTE;
    CHECK_EQ_INT(budget_parse(&b, "grow(self, query)>5", &d), 0);
    CHECK_EQ_INT(budget_eval(&b, A, &s, &d), 0);
    budget_describe(&b, buf, sizeof(buf));
    CHECK_STR(buf, "measured 150 samples, limit 5 samples");
    budget_release(&b);
}

int
main(void)
{
    A = arena_new();
    RUN(test_parse_forms);
    RUN(test_parse_errors);
    RUN(test_eval_values);
    RUN(test_eval_grow);
    RUN(test_eval_kept_and_describe);
    arena_free(A);
    return check_report();
}
