/*
 * test_html.c: the HTML report (html.c) and the standalone flame SVG
 * (flame.c) as bytes: every template marker filled, hostile names escaped
 * (no "</script>" or "<!--" from the profile reaches the page, invalid
 * UTF-8 becomes U+FFFD in the SVG), no URL in the page, the graph SVG
 * inlined without its prolog, and the same input giving the same bytes.
 * What the page does in a browser is tested in tests/browser.
 */
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "check.h"
#include "flame.h"
#include "graph.h"
#include "gv.h"
#include "html.h"
#include "opts.h"
#include "profile.h"
#include "strbuf.h"

static struct arena *A;

/* Under ASan (make test-c-asan): fontconfig's caches, filled when Graphviz
 * measures text through pango, live until exit by design (as in
 * tests/render's suppressions).  LeakSanitizer asks for this hook. */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}

static const char *HOSTILE = "</script><!--<script>alert(1)</script>";

static size_t
count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

/* Whether s is well-formed UTF-8 (no overlong forms, no surrogates). */
static int
valid_utf8(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        int n = *u < 0x80 ? 0 : (*u & 0xe0) == 0xc0 ? 1
                : (*u & 0xf0) == 0xe0 ? 2 : (*u & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0 || (n == 1 && *u < 0xc2)) {
            return 0;
        }
        uint32_t cp = n == 0 ? *u : *u & (0x3f >> n);
        for (int i = 1; i <= n; i++) {
            if ((u[i] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (u[i] & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000)))
            || (n == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
            return 0;
        }
        u += n + 1;
    }
    return 1;
}

struct fixture {
    struct profile prof;
    struct graph g;
    struct render_opts o;
    struct report_input in;
};

static void
setup(struct fixture *f)
{
    static const char *inputs[] = {"/tmp/x<y>.out"};
    struct diag d;
    profile_init(&f->prof, A);
    int64_t a = profile_intern(&f->prof, "/srv/app.py", 11, 3, "main", 4);
    int64_t b = profile_intern(&f->prof, "/srv/\"q\".py", 11, 7, HOSTILE,
                               strlen(HOSTILE));
    int64_t c = profile_intern(&f->prof, "/srv/app.py", 11, 9, "bad\xff", 4);
    CHECK(a >= 0 && b >= 0 && c >= 0);
    uint32_t s1[] = {(uint32_t)b, (uint32_t)a};
    uint32_t s2[] = {(uint32_t)c, (uint32_t)a};
    CHECK_EQ_INT(profile_add_stack(&f->prof, s1, 2, 30), 0);
    CHECK_EQ_INT(profile_add_stack(&f->prof, s2, 2, 12), 0);
    render_opts_init(&f->o);
    f->o.inputs = inputs;
    f->o.ninputs = 1;
    CHECK_EQ_INT(graph_build(&f->g, A, &f->prof, &f->o, &d), 0);
    graph_prune(&f->g, A, &f->o);
    /* Laid out once: Graphviz 2.42's pango plugin reads freed memory when
     * a process lays out a second graph (plop-render lays out one). */
    static struct strbuf svg;
    if (svg.buf == NULL) {
        strbuf_init(&svg, A);
        CHECK_EQ_INT(gv_render(&svg, &f->g, &f->o, "svg", &d), 0);
    }
    f->in.prof = &f->prof;
    f->in.graph = &f->g;
    f->in.graph_svg = svg.buf;
    f->in.graph_svg_len = svg.len;
    f->in.inputs = inputs;
    f->in.ninputs = 1;
    f->in.opts = &f->o;
}

static const char *
page(struct fixture *f)
{
    struct strbuf out;
    struct diag d;
    strbuf_init(&out, A);
    CHECK_EQ_INT(html_write(&out, &f->in, &d), 0);
    CHECK_EQ_INT(strlen(out.buf), out.len);
    return out.buf;
}

static void
test_markers_filled(void)
{
    struct fixture f;
    setup(&f);
    const char *html = page(&f);
    CHECK(count(html, "<!-- plop:") == 0);
    CHECK(count(html, "\n<style>\n") == 1);
    CHECK(count(html, "id=\"plop-data\">") == 1);
    CHECK(count(html, "<g id=\"n") == 3);
    CHECK(count(html, "<?xml") == 0);
    CHECK(count(html, "<!DOCTYPE svg") == 0);
    CHECK(strstr(html, "<h1><span class=\"brand\">plop</span> x&lt;y&gt;.out"
                 "</h1>") != NULL);
    CHECK(strstr(html, "<title>x&lt;y&gt;.out") != NULL);
}

static void
test_hostile_names_cannot_break_out(void)
{
    struct fixture f;
    setup(&f);
    const char *html = page(&f);
    /* The page's own two script elements, nothing else. */
    CHECK_EQ_INT(count(html, "</script>"), 2);
    CHECK_EQ_INT(count(html, "<script"), 2);
    CHECK(strstr(html, "\\u003c/script\\u003e\\u003c!--\\u003cscript\\u003e"
                 "alert(1)\\u003c/script\\u003e") != NULL);
    CHECK(valid_utf8(html));
    CHECK(strstr(html, "http:") == NULL);
    CHECK(strstr(html, "https:") == NULL);
}

static void
test_deterministic(void)
{
    struct fixture f1, f2;
    setup(&f1);
    setup(&f2);
    CHECK_STR(page(&f1), page(&f2));
}

static void
test_flame_svg(void)
{
    struct fixture f;
    struct strbuf out;
    struct diag d;
    setup(&f);
    strbuf_init(&out, A);
    CHECK_EQ_INT(flame_svg_write(&out, &f.in, &d), 0);
    const char *s = out.buf;
    CHECK(strncmp(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44)
          == 0);
    CHECK(count(s, "<rect x=") == 4);           /* all, main, 2 callees */
    CHECK(count(s, "<script") == 0);
    CHECK(strstr(s, "&lt;/script&gt;&lt;!--&lt;script&gt;alert(1)") != NULL);
    CHECK(strstr(s, " (/srv/app.py:9)\n12 samples, 28.57 %</title>") != NULL);
    CHECK(valid_utf8(s));
    CHECK(strstr(s, "<title>all\n42 samples, 100.00 %</title>") != NULL);
    CHECK(strstr(s, ">x&lt;y&gt;.out</text>") != NULL);
}

int
main(void)
{
    A = arena_new();
    RUN(test_markers_filled);
    RUN(test_hostile_names_cannot_break_out);
    RUN(test_deterministic);
    RUN(test_flame_svg);
    arena_free(A);
    return check_report();
}
