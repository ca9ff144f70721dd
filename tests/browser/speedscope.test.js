/*
 * speedscope.test.js: plop-render's -T speedscope files in the real
 * speedscope viewer (the `speedscope` npm package pinned in
 * package-lock.json, its release build opened from file://) in Chromium.
 *
 * The file is checked against the schema the package ships
 * (file-format-schema.json, a draft-07 subset validated here), then
 * imported through speedscope's own file input: it must load with no
 * page error, no console error and no request leaving file:// (every
 * other request is failed and recorded), show each input as a profile
 * under its name, and its Sandwich table must list every function with
 * the self and total samples that `plop-render -T txt` prints.
 *
 *     node speedscope.test.js PLOP_RENDER OUT
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
const RELEASE = path.join(path.dirname(require.resolve("speedscope/package.json")),
                          "dist", "release");
const FIRST = "plop-0.4-py3.11-mixed.plop";
const SECOND = "plop-0.2-py2.7-mixed.out";

function run(args) {
    const r = childProcess.spawnSync(BIN, args, { encoding: "utf8" });
    if (r.status !== 0) {
        throw new Error(`plop-render ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    }
    return r.stdout;
}

/* [{name, self, incl}] of every function, from plop-render -T txt. */
function plopFunctions(input) {
    const text = run([input, "-T", "txt", "-o", "-", "--max-nodes", "0"]);
    const table = text.split("by self samples:\n")[1].split("\n\n")[0];
    return table.split("\n").slice(1).filter((l) => l.trim()).map((l) => {
        const m = /^\s*([\d,]+)\s+[\d.]+%\s+[\d.]+%\s+([\d,]+)\s+[\d.]+%\s\s(.*) \(.*:\d+\)$/.exec(l);
        assert(m, "unparsed plop row " + l);
        return { name: m[3], self: +m[1].replace(/,/g, ""), incl: +m[2].replace(/,/g, "") };
    });
}

/* ------------------------------------------------------------ schema */

/* The parts of JSON Schema draft-07 that speedscope's schema uses. */
function validate(schema, value, root, where) {
    if (schema.$ref) {
        const name = schema.$ref.replace("#/definitions/", "");
        return validate(root.definitions[name], value, root, where);
    }
    if (schema.anyOf) {
        const errors = [];
        for (const s of schema.anyOf) {
            try {
                validate(s, value, root, where);
                return;
            }
            catch (e) {
                errors.push(e.message);
            }
        }
        throw new Error(`${where}: matches none of anyOf: ${errors.join("; ")}`);
    }
    const type = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
    if (schema.type && schema.type !== type) {
        throw new Error(`${where}: ${type}, expected ${schema.type}`);
    }
    if ("const" in schema && schema.const !== value) {
        throw new Error(`${where}: ${JSON.stringify(value)}, expected ${schema.const}`);
    }
    if (schema.enum && !schema.enum.includes(value)) {
        throw new Error(`${where}: ${JSON.stringify(value)} not in ${schema.enum}`);
    }
    for (const key of schema.required || []) {
        if (!(key in value)) {
            throw new Error(`${where}: missing '${key}'`);
        }
    }
    for (const [key, s] of Object.entries(schema.properties || {})) {
        if (type === "object" && key in value) {
            validate(s, value[key], root, `${where}.${key}`);
        }
    }
    if (schema.items && type === "array") {
        value.forEach((v, i) => validate(schema.items, v, root, `${where}[${i}]`));
    }
}

/* ------------------------------------------------------------ harness */

const tests = [];
function test(name, fn) {
    tests.push({ name, fn });
}

let context = null;
let FILE = null;

/* speedscope's page with our file imported, recording every request that
 * is not file: or data: (failed), page error and console error. */
async function openInSpeedscope(file) {
    const page = await context.newPage();
    const rec = { blocked: [], errors: [], console: [] };
    await page.route("**/*", (route) => {
        const url = route.request().url();
        if (url.startsWith("file:") || url.startsWith("data:")) {
            return route.continue();
        }
        rec.blocked.push(url);
        return route.abort();
    });
    page.on("pageerror", (e) => rec.errors.push(e.message));
    page.on("console", (m) => {
        if (m.type() === "error") {
            rec.console.push(m.text());
        }
    });
    await page.goto("file://" + path.join(RELEASE, "index.html"));
    const input = await page.waitForSelector("input[type=file]", { state: "attached" });
    await input.setInputFiles(file);
    rec.check = () => {
        assert.deepStrictEqual(rec.blocked, [], "requests leaving file://");
        assert.deepStrictEqual(rec.errors, [], "page errors");
        assert.deepStrictEqual(rec.console, [], "console errors");
    };
    return { page, rec };
}

/* The Sandwich table as [{name, total, self}]. */
async function sandwich(page) {
    await page.click("text=Sandwich");
    /* Wait for rows of counts, not just any 3-cell row: the table is
       filled after the tab switch. */
    await page.waitForFunction(() => Array.from(document.querySelectorAll("table tr"))
        .some((tr) => {
            const td = tr.querySelectorAll("td");
            return td.length === 3 && /^\d+ \(<?[\d.]+%\)$/.test(td[0].innerText.trim());
        }), null, { timeout: 15000 });
    const rows = await page.$$eval("table tr", (trs) => trs.map(
        (tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.innerText.trim())));
    /* Other tables (the profile list) have rows too: keep "N (P%)" ones. */
    const count = /^\d+ \(<?[\d.]+%\)$/;
    return rows.filter((r) => r.length === 3 && count.test(r[0]) && count.test(r[1]))
        .map(([total, self, name]) => ({
        name,
        total: +total.split(" ")[0],
        self: +self.split(" ")[0],
    }));
}

function key(f) {
    return `${f.name} self=${f.self} total=${f.incl !== undefined ? f.incl : f.total}`;
}

test("the file follows speedscope's file-format-schema.json", async () => {
    const schema = JSON.parse(fs.readFileSync(path.join(RELEASE, "file-format-schema.json"), "utf8"));
    const doc = JSON.parse(fs.readFileSync(FILE, "utf8"));
    validate(schema.definitions["FileFormat.File"], doc, schema, "file");
    assert.strictEqual(doc.profiles.length, 2);
    assert.deepStrictEqual(doc.profiles.map((p) => p.type), ["sampled", "sampled"]);
    assert.deepStrictEqual(doc.profiles.map((p) => p.name), [FIRST, SECOND]);
    for (const p of doc.profiles) {
        assert.strictEqual(p.samples.length, p.weights.length);
        assert.strictEqual(p.weights.reduce((a, b) => a + b, 0), p.endValue);
        for (const s of p.samples) {
            for (const i of s) {
                assert(Number.isInteger(i) && i >= 0 && i < doc.shared.frames.length);
            }
        }
    }
    assert(doc.shared.frames.every((f) => typeof f.file === "string"));
});

test("speedscope loads it: name, profiles, totals, every function", async () => {
    const { page, rec } = await openInSpeedscope(FILE);
    await page.waitForFunction((n) => document.title === `${n} - speedscope`, FIRST,
                               { timeout: 15000 });
    const body = await page.innerText("body");
    assert(body.includes(`${FIRST} (1/2)`), "profile name and count in the toolbar:\n" + body);
    const got = await sandwich(page);
    const want = plopFunctions(path.join(FIXTURES, FIRST));
    assert.strictEqual(Math.max(...got.map((f) => f.total)), 466, "the profile's total");
    assert.deepStrictEqual(got.map(key).sort(), want.map(key).sort());
    await page.screenshot({ path: path.join(OUT, "speedscope-sandwich.png") });
    rec.check();
    await page.close();
});

test("the second input is speedscope's second profile", async () => {
    const { page, rec } = await openInSpeedscope(FILE);
    await page.waitForFunction((n) => document.title === `${n} - speedscope`, FIRST,
                               { timeout: 15000 });
    await page.keyboard.press("n");
    await page.waitForFunction(() => document.body.innerText.includes("(2/2)"));
    const body = await page.innerText("body");
    assert(body.includes(`${SECOND} (2/2)`), body);
    const got = await sandwich(page);
    const want = plopFunctions(path.join(FIXTURES, SECOND));
    assert.strictEqual(Math.max(...got.map((f) => f.total)), 377, "the profile's total");
    assert.deepStrictEqual(got.map(key).sort(), want.map(key).sort());
    await page.screenshot({ path: path.join(OUT, "speedscope-second.png") });
    rec.check();
    await page.close();
});

/* ------------------------------------------------------------ main */

async function main() {
    let passed = 0;
    let failed = 0;
    try {
        fs.mkdirSync(OUT, { recursive: true });
        FILE = path.join(OUT, "mixed.speedscope.json");
        run([path.join(FIXTURES, FIRST), path.join(FIXTURES, SECOND), "-o", FILE]);
    }
    catch (e) {
        console.log("not ok - writing the speedscope file: " + e.message);
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
            console.log("ok - speedscope: " + t.name);
        }
        catch (e) {
            failed++;
            console.log("not ok - speedscope: " + t.name);
            console.log("  " + String(e.stack || e).split("\n").slice(0, 8).join("\n  "));
        }
    }
    await context.close();
    fs.rmSync(userDir, { recursive: true, force: true });
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
}

main();
