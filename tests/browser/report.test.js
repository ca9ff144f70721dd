/*
 * report.test.js: browser tests of plop's HTML report and standalone flame
 * SVG.  Renders the fixtures and a hostile profile with plop-render, opens
 * the pages in Chromium (playwright-core, Debian's /usr/bin/chromium) and
 * checks what a user sees and does: graph, tooltip, selection, search,
 * table, flame zoom, pan/zoom keys; that hostile names stay text and run
 * nothing; that no page makes a network request.  Screenshots of the views
 * go to OUT for a person to look at.
 *
 *     node report.test.js PLOP_RENDER OUT
 *
 * Prints "ok"/"not ok" per test and ends with "N passed, N failed".
 */
"use strict";

const assert = require("assert");
const childProcess = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const BIN = path.resolve(process.argv[2] || "build/plop-render");
const OUT = path.resolve(process.argv[3] || "build/browser-out");
const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(ROOT, "tests", "fixtures");
const MAIN_FIXTURE = "plop-0.4-py3.11-mixed.plop";
const HOSTILE_NAMES = [
    "<script>alert(1)</script>",
    "</script><script>alert(2)</script>",
    "<img src=x onerror=alert(3)>",
    "\"double\" 'single' `back`",
    "<!-- not a comment -->",
    "&amp; &lt;b&gt; &#x41;",
    "w\u00f6rk_\u51fd\u6570_\u{1f525}",
    "line\u2028sep\u2029para",
    "]]></svg><script>alert(4)</script>",
];

/* ------------------------------------------------------------ rendering */

function render(input, output, extra) {
    const args = [input, "-o", output].concat(extra || []);
    const r = childProcess.spawnSync(BIN, args, { encoding: "utf8" });
    if (r.status !== 0) {
        throw new Error(`plop-render ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    }
    return output;
}

function prepare() {
    const files = {};
    for (const f of fs.readdirSync(FIXTURES)) {
        if (!fs.statSync(path.join(FIXTURES, f)).isFile()) {
            continue;
        }
        const input = path.join(FIXTURES, f);
        /* "x.flame" + ".svg" would select the flame writer: no dots. */
        const base = path.join(OUT, f.replace(/\./g, "_"));
        files[f] = {
            input,
            html: render(input, base + ".html"),
            svg: render(input, base + ".svg"),
            flame: render(input, base + ".flame.svg"),
        };
    }
    const hostile = path.join(OUT, "hostile.out");
    const gen = childProcess.spawnSync("python3",
        [path.join(__dirname, "make_hostile.py"), hostile], { encoding: "utf8" });
    if (gen.status !== 0) {
        throw new Error("make_hostile.py failed: " + gen.stderr);
    }
    const synth = path.join(OUT, "synthetic-10000.out");
    const made = childProcess.spawnSync("python3", [path.join(ROOT, "bench", "gen_profile.py"),
        "--stacks", "10000", "-o", synth], { encoding: "utf8" });
    if (made.status !== 0) {
        throw new Error("gen_profile.py failed: " + made.stderr);
    }
    files.synthetic = {
        input: synth,
        html: render(synth, path.join(OUT, "synthetic-10000.html")),
        svg: render(synth, path.join(OUT, "synthetic-10000.svg")),
        flame: render(synth, path.join(OUT, "synthetic-10000.flame.svg")),
    };
    /* A comparison: the diff suite's fixture (tests/diff/fixtures). */
    const diffDir = path.join(ROOT, "tests", "diff", "fixtures");
    const diffArgs = ["--base", path.join(diffDir, "base.collapsed")];
    const diffNew = path.join(diffDir, "new.collapsed");
    files.diff = {
        input: diffNew,
        html: render(diffNew, path.join(OUT, "diff.html"), diffArgs),
        svg: render(diffNew, path.join(OUT, "diff.svg"), diffArgs),
        flame: render(diffNew, path.join(OUT, "diff.flame.svg"), diffArgs),
    };
    files.hostile = {
        input: hostile,
        html: render(hostile, path.join(OUT, "hostile.html")),
        svg: render(hostile, path.join(OUT, "hostile.svg")),
        flame: render(hostile, path.join(OUT, "hostile.flame.svg")),
    };
    return files;
}

/* The graph SVG's node ids ("n12") and edges ("e12-13"), read from the
 * -T svg output, independently of the page. */
function svgGraph(svgFile) {
    const text = fs.readFileSync(svgFile, "utf8");
    const nodes = [...text.matchAll(/<g id="n(\d+)" class="node">/g)].map((m) => +m[1]);
    const edges = [...text.matchAll(/<g id="e(\d+)(?:-|&#45;)(\d+)" class="edge">/g)]
        .map((m) => [+m[1], +m[2]]);
    return { nodes, edges };
}

/* ------------------------------------------------------------ harness */

const tests = [];
function test(name, fn) {
    tests.push({ name, fn });
}

let context = null;

/*
 * Opens `file` in a fresh page that records every request that is not a
 * file: or data: URL (and fails it), every dialog and alert() call, and
 * every uncaught error.  check() asserts none of them happened.
 */
async function open(file) {
    const page = await context.newPage();
    const rec = { blocked: [], dialogs: [], errors: [] };
    await page.route("**/*", (route) => {
        const url = route.request().url();
        if (url.startsWith("file:") || url.startsWith("data:")) {
            return route.continue();
        }
        rec.blocked.push(url);
        return route.abort();
    });
    page.on("dialog", (d) => {
        rec.dialogs.push(d.message());
        d.dismiss().catch(() => {});
    });
    page.on("pageerror", (e) => rec.errors.push(e.message));
    await page.addInitScript(() => {
        window.__calls = [];
        for (const n of ["alert", "confirm", "prompt", "print", "open"]) {
            window[n] = function () {
                window.__calls.push(n);
            };
        }
    });
    await page.goto("file://" + file);
    if (file.endsWith(".html")) {
        await page.waitForSelector("html[data-ready='1']", { timeout: 10000 });
    }
    rec.check = async () => {
        const calls = await page.evaluate(() => window.__calls);
        assert.deepStrictEqual(rec.blocked, [], "network requests");
        assert.deepStrictEqual(rec.dialogs, [], "dialogs");
        assert.deepStrictEqual(calls, [], "alert/confirm/prompt/print/open calls");
        assert.deepStrictEqual(rec.errors, [], "page errors");
    };
    return { page, rec };
}

async function pageData(page) {
    return page.evaluate(() => JSON.parse(document.getElementById("plop-data").textContent));
}

function funcIndex(data, name) {
    const i = data.funcs.name.indexOf(name);
    assert.ok(i >= 0, `no function '${name}' in the data`);
    return i;
}

async function rowTexts(page, col) {
    return page.$$eval("#funcs tbody tr", (rows, c) =>
        rows.map((r) => r.children[c].textContent), col);
}

/* ------------------------------------------------------------ tests */

let F = null;   /* the rendered files */

test("every fixture renders the graph with the expected node count", async () => {
    for (const name of Object.keys(F)) {
        const expect = svgGraph(F[name].svg);
        assert.ok(expect.nodes.length > 0, `${name}: the SVG output has no node`);
        const { page, rec } = await open(F[name].html);
        const data = await pageData(page);
        const got = await page.$$eval("#graph svg g.node", (gs) =>
            gs.map((g) => g.getAttribute("data-f")));
        assert.strictEqual(got.length, expect.nodes.length, `${name}: nodes on the page`);
        assert.ok(got.every((f) => f !== null), `${name}: a node without its function`);
        assert.deepStrictEqual(data.shown.slice().sort((a, b) => a - b),
            expect.nodes.slice().sort((a, b) => a - b), `${name}: shown nodes`);
        const stat = await page.$$eval(".stats dd", (dd) => dd.map((d) => d.textContent));
        assert.strictEqual(stat[3], String(expect.nodes.length), `${name}: header count`);
        const rows = await page.$$eval("#funcs tbody tr", (r) => r.length);
        assert.strictEqual(rows, Math.min(200, data.funcs.name.length), `${name}: table rows`);
        await rec.check();
        await page.close();
    }
});

test("hovering a node shows its tooltip", async () => {
    const { page, rec } = await open(F[MAIN_FIXTURE].html);
    const data = await pageData(page);
    const i = funcIndex(data, "sort_records");
    await page.hover(`#graph g#n${i}`);
    const tip = page.locator("#tooltip");
    await tip.waitFor({ state: "visible" });
    const text = await tip.textContent();
    const file = data.files[data.funcs.file[i]];
    assert.ok(text.includes("sort_records"), text);
    assert.ok(text.includes(`${file}:${data.funcs.line[i]}`), "full path and line: " + text);
    assert.ok(text.includes(`${data.funcs.self[i]} samples`), "self samples: " + text);
    assert.ok(text.includes(`${data.funcs.incl[i]} samples`), "inclusive samples: " + text);
    const inclPct = (100 * data.funcs.incl[i] / data.total).toFixed(1) + "%";
    assert.ok(text.includes(inclPct), `inclusive ${inclPct}: ` + text);
    await page.mouse.move(2, 2);
    await tip.waitFor({ state: "hidden" });
    await rec.check();
    await page.close();
});

test("clicking a node highlights its callers and callees and dims the rest", async () => {
    const { page, rec } = await open(F[MAIN_FIXTURE].html);
    const data = await pageData(page);
    const i = funcIndex(data, "main");
    const c = data.funcs.name.findIndex((n, k) => n === "main" &&
        data.files[data.funcs.file[k]].endsWith("mixed.py"));
    const sel = c >= 0 ? c : i;
    const { edges } = svgGraph(F[MAIN_FIXTURE].svg);
    const expect = new Set();
    for (const [a, b] of edges) {
        if (a === sel && b !== sel) {
            expect.add(b);
        }
        if (b === sel && a !== sel) {
            expect.add(a);
        }
    }
    assert.ok(expect.size >= 2, "the chosen node has callers and callees");
    await page.click(`#graph g#n${sel}`);
    const selected = await page.$$eval("#graph g.node.sel", (g) => g.map((x) => x.id));
    assert.deepStrictEqual(selected, [`n${sel}`]);
    const nbr = await page.$$eval("#graph g.node.nbr", (g) => g.map((x) => +x.id.slice(1)));
    assert.deepStrictEqual(nbr.sort((a, b) => a - b), [...expect].sort((a, b) => a - b));
    await page.waitForTimeout(300);     /* the fade's transition */
    const opacity = await page.$$eval("#graph g.node", (gs) => gs.map((g) =>
        [g.id, +getComputedStyle(g).opacity]));
    for (const [id, op] of opacity) {
        const k = +id.slice(1);
        if (k === sel || expect.has(k)) {
            assert.strictEqual(op, 1, `${id} should stay bright`);
        }
        else {
            assert.ok(op < 0.5, `${id} should be dimmed, opacity ${op}`);
        }
    }
    assert.strictEqual(await page.textContent("#details h3"), "main");
    await page.screenshot({ path: path.join(OUT, "graph-selected.png") });
    await page.click(`#graph g#n${sel}`);
    assert.strictEqual(await page.$$eval("#graph g.node.sel", (g) => g.length), 0,
        "a second click deselects");
    await rec.check();
    await page.close();
});

test("the search box finds a function in the graph, the table and the flame graph", async () => {
    const { page, rec } = await open(F[MAIN_FIXTURE].html);
    const data = await pageData(page);
    const i = funcIndex(data, "tokenize");
    await page.fill("#search", "tokeniz");
    // the search runs in a timeout after the input event: wait for it
    await page.waitForFunction(() => document.querySelectorAll("#graph g.node.match").length > 0,
        null, { timeout: 5000 }).catch(() => {});
    const matched = await page.$$eval("#graph g.node.match", (g) => g.map((x) => x.id));
    assert.deepStrictEqual(matched, [`n${i}`]);
    const names = await rowTexts(page, 0);
    assert.ok(names.length >= 1 && names.every((n) => n.includes("tokenize")), names.join("|"));
    assert.match(await page.textContent("#search-count"), /^1 function match, 1 in the graph/);
    const flameHits = await page.$$eval("#flame-svg g.fr.match", (g) => g.length);
    assert.ok(flameHits >= 1, "flame frames of the match are marked");
    await page.press("#search", "Enter");
    assert.strictEqual(await page.textContent("#details h3"), "tokenize");
    await page.fill("#search", "no such function anywhere");
    // the table filters on the input event's next frame: wait for it
    await page.waitForFunction(() => document.querySelectorAll("#funcs tbody tr").length === 0,
        null, { timeout: 5000 }).catch(() => {});
    assert.strictEqual(await page.$$eval("#funcs tbody tr", (r) => r.length), 0);
    assert.strictEqual(await page.$$eval("#graph g.node.match", (g) => g.length), 0);
    await page.press("#search", "Escape");
    assert.strictEqual(await page.$$eval("#funcs tbody tr", (r) => r.length),
        data.funcs.name.length);
    await rec.check();
    await page.close();
});

test("the table sorts by every column and filters as you type", async () => {
    const { page, rec } = await open(F[MAIN_FIXTURE].html);
    const data = await pageData(page);
    const num = (s) => +s.replace(/,/g, "");
    const nonIncreasing = (a) => a.every((v, k) => k === 0 || a[k - 1] >= v);
    const nonDecreasing = (a) => a.every((v, k) => k === 0 || a[k - 1] <= v);

    assert.ok(nonIncreasing((await rowTexts(page, 2)).map(num)), "default: self, descending");
    await page.click("#funcs th[data-key='incl']");
    assert.ok(nonIncreasing((await rowTexts(page, 4)).map(num)), "inclusive, descending");
    assert.strictEqual(await page.getAttribute("#funcs th[data-key='incl']", "aria-sort"),
        "descending");
    await page.click("#funcs th[data-key='incl']");
    assert.ok(nonDecreasing((await rowTexts(page, 4)).map(num)), "inclusive, ascending");
    await page.click("#funcs th[data-key='name']");
    const names = (await rowTexts(page, 0)).map((n) => n.replace(/not in graph$/, ""));
    assert.deepStrictEqual(names, names.slice().sort(), "names, ascending");
    await page.click("#funcs th[data-key='selfp']");
    assert.ok(nonIncreasing((await rowTexts(page, 3)).map(parseFloat)), "self %, descending");

    await page.fill("#search", "encode");
    const expect = data.funcs.name.filter((n, k) =>
        (n + "\0" + data.files[data.funcs.file[k]] + ":" + data.funcs.line[k])
            .toLowerCase().includes("encode")).length;
    const rows = await page.$$eval("#funcs tbody tr", (r) => r.map((x) => x.textContent));
    assert.strictEqual(rows.length, expect, "filtered rows");
    assert.ok(rows.every((r) => r.toLowerCase().includes("encode")), rows.join("|"));
    await page.fill("#search", "");
    await page.click("#funcs th[data-key='self']");
    await page.locator("#table-section").screenshot({ path: path.join(OUT, "table.png") });
    await rec.check();
    await page.close();
});

test("clicking a table row selects the function in the graph and the flame graph", async () => {
    const { page, rec } = await open(F[MAIN_FIXTURE].html);
    const data = await pageData(page);
    const i = funcIndex(data, "count_words");
    await page.click(`#funcs tbody tr[data-f='${i}']`);
    assert.deepStrictEqual(await page.$$eval("#graph g.node.sel", (g) => g.map((x) => x.id)),
        [`n${i}`]);
    assert.strictEqual(await page.textContent("#details h3"), "count_words");
    assert.strictEqual(await page.getAttribute(`#funcs tbody tr[data-f='${i}']`, "class"), "sel");
    const hl = await page.$$eval("#flame-svg g.fr.hl", (g) => g.map((x) => x.textContent));
    assert.ok(hl.length >= 1, "flame frames highlighted");
    /* The node must be inside the visible part of the graph. */
    const inView = await page.evaluate((id) => {
        const n = document.getElementById(id).getBoundingClientRect();
        const b = document.getElementById("graph").getBoundingClientRect();
        const cx = n.left + n.width / 2;
        const cy = n.top + n.height / 2;
        return cx > b.left && cx < b.right && cy > b.top && cy < b.bottom;
    }, `n${i}`);
    assert.ok(inView, "the selected node is panned into view");

    const pruned = data.funcs.name.findIndex((n, k) => !data.shown.includes(k));
    if (pruned >= 0) {
        await page.click(`#funcs tbody tr[data-f='${pruned}']`);
        assert.strictEqual(await page.$$eval("#graph g.node.sel", (g) => g.length), 0);
        assert.ok((await page.textContent("#details")).includes("no (pruned)"));
    }
    await rec.check();
    await page.close();
});

test("the flame graph zooms into a frame and resets", async () => {
    const { page, rec } = await open(F[MAIN_FIXTURE].html);
    const data = await pageData(page);
    const i = funcIndex(data, "sort_records");
    const crunch = funcIndex(data, "crunch");
    const frameOf = (f) => data.flame.f.indexOf(f);
    const fr = frameOf(i);
    assert.ok(fr > 0, "sort_records has a frame");
    await page.locator("#flame-section").screenshot({ path: path.join(OUT, "flame.png") });
    const width = await page.evaluate(() =>
        document.getElementById("flame-svg").viewBox.baseVal.width);
    const before = await page.$$eval("#flame-svg g.fr", (g) => g.length);
    assert.strictEqual(await page.isDisabled("#flame-reset"), true);
    await page.click(`#flame-svg g.fr[data-i='${fr}'] rect`);
    const rect = await page.$eval(`#flame-svg g.fr[data-i='${fr}'] rect`, (r) =>
        [+r.getAttribute("x"), +r.getAttribute("width")]);
    assert.ok(Math.abs(rect[0]) < 1 && Math.abs(rect[1] - width) < 1,
        `zoomed frame spans the width: ${rect} of ${width}`);
    const crunchFrames = await page.$$eval("#flame-svg g.fr", (g, f) =>
        g.filter((x) => x.textContent.startsWith("crunch")).length, crunch);
    assert.strictEqual(crunchFrames, 0, "frames outside the zoomed one are gone");
    assert.ok((await page.textContent("#flame-path")).includes("sort_records"));
    assert.strictEqual(await page.isDisabled("#flame-reset"), false);
    await page.locator("#flame-section").screenshot({ path: path.join(OUT, "flame-zoomed.png") });
    await page.click("#flame-reset");
    assert.strictEqual(await page.$$eval("#flame-svg g.fr", (g) => g.length), before);
    assert.strictEqual(await page.isDisabled("#flame-reset"), true);
    await page.hover(`#flame-svg g.fr[data-i='${fr}'] rect`);
    assert.ok((await page.textContent("#tooltip")).includes("this frame"));
    await rec.check();
    await page.close();
});

test("the graph pans and zooms with keys, wheel, drag and fit", async () => {
    const { page, rec } = await open(F[MAIN_FIXTURE].html);
    const vb = () => page.$eval("#graph svg", (s) => {
        const b = s.viewBox.baseVal;
        return [b.x, b.y, b.width, b.height];
    });
    await page.screenshot({ path: path.join(OUT, "graph.png") });
    const fit = await vb();
    await page.focus("#graph");
    await page.keyboard.press("+");
    const zin = await vb();
    assert.ok(zin[2] < fit[2] * 0.9, `'+' zooms in: ${zin} vs ${fit}`);
    await page.keyboard.press("ArrowLeft");
    const left = await vb();
    assert.ok(left[0] < zin[0], "ArrowLeft pans");
    await page.keyboard.press("0");
    assert.deepStrictEqual(await vb(), fit, "'0' fits");
    const box = await page.locator("#graph").boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + 30);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction((w) =>
        document.querySelector("#graph svg").viewBox.baseVal.width < w, fit[2]);
    const wheeled = await vb();
    await page.mouse.move(box.x + 20, box.y + 20);
    await page.mouse.down();
    await page.mouse.move(box.x + 120, box.y + 80, { steps: 5 });
    await page.mouse.up();
    const dragged = await vb();
    assert.ok(dragged[0] < wheeled[0] && dragged[1] < wheeled[1], "drag pans");
    assert.strictEqual(await page.$$eval("#graph g.node.sel", (g) => g.length), 0,
        "a drag selects nothing");
    await page.click("#fit");
    assert.deepStrictEqual(await vb(), fit, "the Fit button fits");
    await rec.check();
    await page.close();
});

test("hostile names render as text and run no script", async () => {
    const html = fs.readFileSync(F.hostile.html, "utf8");
    assert.strictEqual((html.match(/<script/gi) || []).length, 2, "script elements in the file");
    const { page, rec } = await open(F.hostile.html);
    await page.waitForTimeout(200);
    assert.strictEqual(await page.evaluate(() => document.scripts.length), 2);
    assert.strictEqual(await page.$$eval("img", (i) => i.length), 0, "no injected element");
    const cells = await page.$$eval("#funcs td.name", (t) => t.map((x) => x.firstChild.nextSibling.data));
    const svgText = await page.$eval("#graph svg", (s) => s.textContent);
    for (const name of HOSTILE_NAMES) {
        assert.ok(cells.includes(name), `table shows ${JSON.stringify(name)}`);
        const inGraph = svgText.includes(name);
        assert.ok(inGraph, `graph shows ${JSON.stringify(name)}`);
    }
    const file = await page.$eval("#funcs td.loc", (t) => t.textContent);
    assert.ok(file.startsWith("/"), file);
    const loc = await page.$$eval("#funcs td.loc", (t) => t.map((x) => x.textContent));
    assert.ok(loc.some((l) => l.startsWith("/tmp/<b>evil</b>/x'\"&.py:")), loc.join("|"));
    const data = await pageData(page);
    const k = funcIndex(data, HOSTILE_NAMES[0]);
    await page.hover(`#graph g#n${k}`);
    assert.ok((await page.textContent("#tooltip")).includes(HOSTILE_NAMES[0]));
    await page.fill("#search", "</script>");
    assert.ok((await rowTexts(page, 0)).length >= 2);
    await page.click("#funcs tbody tr");
    await page.fill("#search", "");
    await page.screenshot({ path: path.join(OUT, "hostile.png"), fullPage: true });
    await rec.check();
    await page.close();
});

test("the standalone flame SVG is well-formed and draws every frame as text", async () => {
    for (const name of [MAIN_FIXTURE, "hostile"]) {
        const svg = fs.readFileSync(F[name].flame, "utf8");
        const { page, rec } = await open(F[name].flame);
        const res = await page.evaluate((text) => {
            const doc = new DOMParser().parseFromString(text, "image/svg+xml");
            const err = doc.getElementsByTagName("parsererror").length;
            const frames = doc.querySelectorAll("g > rect").length;
            const titles = [...doc.querySelectorAll("g > title")].map((t) => t.textContent);
            const scripts = doc.getElementsByTagName("script").length;
            return { err, frames, titles, scripts };
        }, svg);
        assert.strictEqual(res.err, 0, `${name}: XML parse error`);
        assert.strictEqual(res.scripts, 0);
        assert.ok(res.frames > 3, `${name}: frames ${res.frames}`);
        assert.ok(res.titles[0].startsWith("all"), res.titles[0]);
        if (name === "hostile") {
            for (const h of HOSTILE_NAMES) {
                assert.ok(res.titles.some((t) => t.startsWith(h + " (")),
                    `flame title for ${JSON.stringify(h)}`);
            }
        }
        else {
            await page.screenshot({ path: path.join(OUT, "flame-svg.png") });
        }
        assert.ok(!/https?:\/\/(?!www\.w3\.org\/2000\/svg")/.test(svg), "no URL but the namespace");
        await rec.check();
        await page.close();
    }
});

test("pages hold no URL and load nothing, even while used", async () => {
    for (const name of Object.keys(F)) {
        const html = fs.readFileSync(F[name].html, "utf8");
        if (name !== "hostile") {
            assert.ok(!/(https?|ftp|wss?):\/\//i.test(html), `${name}: a URL in the page`);
            assert.ok(!/url\(|@import|\ssrc=/i.test(html), `${name}: a resource reference`);
        }
        const { page, rec } = await open(F[name].html);
        await page.hover("#graph g.node");
        await page.click("#graph g.node");
        await page.click("#flame-svg g.fr:nth-child(3) rect");
        await page.fill("#search", "a");
        await page.click("#funcs th[data-key='name']");
        await page.waitForTimeout(100);
        await rec.check();
        await page.close();
    }
});

test("a larger profile: the table pages through every function, the flame graph says what it left out", async () => {
    const { page, rec } = await open(F.synthetic.html);
    const data = await pageData(page);
    const n = data.funcs.name.length;
    assert.ok(n > 200, `synthetic profile has ${n} functions`);
    assert.strictEqual(await page.$$eval("#funcs tbody tr", (r) => r.length), 200);
    while (await page.locator("#table-foot button").count() > 0) {
        await page.click("#table-foot button");
    }
    assert.strictEqual(await page.$$eval("#funcs tbody tr", (r) => r.length), n);
    assert.match(await page.textContent("#table-foot"), new RegExp(`Showing ${n.toLocaleString("en-US")} of`));
    const note = await page.textContent("#flame-note");
    const frames = data.flame.f.length;
    assert.ok(note.startsWith(frames.toLocaleString("en-US") + " frames"), note);
    if (data.flame.omitted > 0) {
        assert.ok(note.includes("left out"), note);
    }
    const sum = data.flame.v.reduce((acc, v, k) => acc + (data.flame.d[k] === 1 ? v : 0), 0);
    assert.ok(sum <= data.total, "top-level frames never exceed the total");
    assert.ok(data.flame.v.every((v) => v >= data.flame.min), "every frame is above the budget");
    await page.screenshot({ path: path.join(OUT, "synthetic.png") });
    await rec.check();
    await page.close();
});

test("a box of hidden functions shows what it holds on hover", async () => {
    /* tests/render/run.py's services_profile(): with every call drawn the
     * default shows 300 boxes and puts 341 services (6,488 of 21,300
     * samples, at most 28 each) in one box below main. */
    const lines = [];
    for (let i = 0; i < 600; i++) {
        const svc = `main (/app/main.py:1);svc_${i} (/app/svc.py:${10 + i})`;
        lines.push(`${svc} ${40 - Math.floor(i / 20)}`);
        lines.push(`${svc};lib_${i % 40} (/app/lib.py:${5 + i % 40}) 10`);
    }
    const input = path.join(OUT, "services.txt");
    fs.writeFileSync(input, lines.join("\n") + "\n");
    const html = render(input, path.join(OUT, "services.html"), ["--edge-fraction", "0"]);
    const { page, rec } = await open(html);
    const data = await pageData(page);
    const main = funcIndex(data, "main");
    assert.deepStrictEqual(data.tails, [main, 341, 6488, 28]);
    assert.strictEqual(await page.$$eval("#graph svg g.node", (gs) => gs.length), 301);
    await page.hover(`#graph g#t${main}`);
    const tip = page.locator("#tooltip");
    await tip.waitFor({ state: "visible" });
    const text = await tip.textContent();
    assert.ok(text.includes("341 hidden functions below main"), text);
    assert.ok(text.includes("6,488 samples") && text.includes("30.5%"), text);
    assert.ok(text.includes("28 samples"), text);
    await page.mouse.move(2, 2);
    await tip.waitFor({ state: "hidden" });
    await page.click(`#graph g#t${main}`);
    await rec.check();
    await page.close();
});

test("the same profile gives a byte-identical page and flame SVG", async () => {
    for (const name of [MAIN_FIXTURE, "hostile"]) {
        for (const ext of [".html", ".flame.svg"]) {
            const again = render(F[name].input, path.join(OUT, "again" + ext));
            const a = fs.readFileSync(name === "hostile" ? F.hostile[ext === ".html" ? "html" : "flame"]
                : F[name][ext === ".html" ? "html" : "flame"]);
            assert.ok(a.equals(fs.readFileSync(again)), `${name}${ext} differs`);
        }
    }
});

test("the diff report: coloured graph and flame graph, a table sorted by change, base values in tooltips", async () => {
    const { page, rec } = await open(F.diff.html);
    const data = await pageData(page);
    assert.deepStrictEqual(data.diff, { total0: 1000, mode: "share" });
    assert.match(await page.textContent(".diff-note"),
        /^compared with .*base\.collapsed \(1,000 samples\): red grew, green shrank, grey held/);
    const heads = await page.$$eval("#funcs th", (th) => th.map((t) => t.textContent));
    assert.deepStrictEqual(heads.slice(-3), ["Base self %", "Self change", "Incl. change"]);
    /* Sorted by self change, largest increase first, by default. */
    assert.deepStrictEqual(await rowTexts(page, 0), ["cache", "query", "handle", "main",
        "parse", "legacy"]);
    assert.deepStrictEqual(await rowTexts(page, 7), ["+25.0", "+10.0", "+0.0", "+0.0", "-15.0", "-20.0"]);
    assert.deepStrictEqual(await rowTexts(page, 6), ["0.0%", "50.0%", "0.0%", "0.0%", "30.0%", "20.0%"]);
    const classes = await page.$$eval("#funcs tbody tr td.chg:nth-child(8)", (td) => td.map((t) => t.className));
    assert.deepStrictEqual(classes, ["num chg up", "num chg up", "num chg held", "num chg held",
        "num chg down", "num chg down"]);
    await page.click("#funcs th[data-key='chg']");
    assert.strictEqual((await rowTexts(page, 0))[0].startsWith("legacy"), true, "ascending after a click");
    /* The graph: grown functions red, shrunk green, held grey; the
     * vanished function is drawn with its loss. */
    const fill = async (name) => page.$eval(`#graph g#n${funcIndex(data, name)} polygon`,
        (p) => p.getAttribute("fill"));
    const rgb = (hex) => [1, 3, 5].map((k) => parseInt(hex.substr(k, 2), 16));
    const [cr, cg] = rgb(await fill("cache"));
    assert.ok(cr > cg + 60, "cache is red");
    const [lr, lg] = rgb(await fill("legacy"));
    assert.ok(lg > lr + 40, "legacy is green");
    assert.strictEqual(await fill("main"), "#e4e4e4");
    const legacyText = await page.textContent(`#graph g#n${funcIndex(data, "legacy")}`);
    assert.ok(legacyText.includes("self 0.0 % (-20.0)"), legacyText);
    /* The flame graph has NEW's shape (no legacy) in the same colours. */
    const frames = await page.$$eval("#flame-svg g.fr", (gs) => gs.map((g) =>
        [g.textContent, g.querySelector("rect").getAttribute("fill")]));
    assert.ok(!frames.some(([t]) => t.startsWith("legacy")), "vanished function in the flame graph");
    const cacheFrame = frames.find(([t]) => t.startsWith("cache"));
    assert.ok(cacheFrame, "cache in the flame graph: " + JSON.stringify(frames));
    assert.strictEqual(cacheFrame[1], await fill("cache"));
    /* The tooltip says what the base had and the change. */
    await page.hover(`#graph g#n${funcIndex(data, "query")}`);
    const tip = page.locator("#tooltip");
    await tip.waitFor({ state: "visible" });
    const text = await tip.textContent();
    assert.ok(text.includes("base self500 samples50.0%"), text);
    assert.ok(text.includes("changeself +10.0incl. +10.0"), text);
    await page.screenshot({ path: path.join(OUT, "diff.png"), fullPage: true });
    await rec.check();
    await page.close();
});

test("the diff report in absolute mode counts samples", async () => {
    const dir = path.join(ROOT, "tests", "diff", "fixtures");
    const html = render(path.join(dir, "new.collapsed"), path.join(OUT, "diff-absolute.html"),
        ["--base", path.join(dir, "base.collapsed"), "--diff-mode", "absolute"]);
    const { page, rec } = await open(html);
    assert.deepStrictEqual((await pageData(page)).diff, { total0: 1000, mode: "absolute" });
    assert.deepStrictEqual(await rowTexts(page, 0), ["query", "cache", "handle", "main",
        "parse", "legacy"]);
    assert.deepStrictEqual(await rowTexts(page, 7), ["+700", "+500", "+0", "+0", "+0", "-200"]);
    assert.deepStrictEqual(await rowTexts(page, 8), ["+700", "+500", "+1,000", "+1,000", "+0", "-200"]);
    await rec.check();
    await page.close();
});

/* ------------------------------------------------------------ main */

async function main() {
    let passed = 0;
    let failed = 0;
    try {
        F = prepare();
    }
    catch (e) {
        console.log("not ok - preparing the reports: " + e.message);
        console.log("0 passed, 1 failed");
        process.exit(1);
    }
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "plop-chromium-"));
    try {
        context = await chromium.launchPersistentContext(userDir, {
            executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
            headless: true,
            viewport: { width: 1400, height: 900 },
            args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                   "--no-first-run", "--disable-background-networking",
                   "--disable-component-update", "--disable-sync"],
        });
    }
    catch (e) {
        console.log("not ok - launching chromium: " + e.message.split("\n")[0]);
        console.log("0 passed, 1 failed");
        process.exit(1);
    }
    for (const t of tests) {
        try {
            await t.fn();
            passed++;
            console.log("ok - " + t.name);
        }
        catch (e) {
            failed++;
            console.log("not ok - " + t.name);
            console.log("  " + String(e.stack || e).split("\n").slice(0, 6).join("\n  "));
        }
    }
    await context.close();
    fs.rmSync(userDir, { recursive: true, force: true });
    console.log(`screenshots and reports in ${OUT}`);
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
}

main();
