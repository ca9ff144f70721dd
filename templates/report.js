/*
 * report.js: the interactive parts of plop's HTML report (report.html).
 * Plain JavaScript, no framework, nothing loaded from anywhere.
 *
 * Input: the JSON of the element #plop-data (written by render/html.c):
 *   total    samples in the profile
 *   files    source file names; funcs.file indexes it
 *   colors   "#rrggbb" fill colours; funcs.color indexes it
 *   funcs    one array per column, one entry per function of the profile
 *            (index = graph node id): name, file, line, self, incl, color
 *   shown    the functions drawn in the graph SVG (node <title> "n<id>")
 *   tails    flat [caller, functions, samples, most, ...] quadruples: the
 *            boxes of hidden functions below a shown caller (node <title>
 *            "t<caller>"): how many, their samples there, and the most
 *            self samples one of them has in all (render/graph.h)
 *   edges    flat [caller, callee, samples, ...] triples over funcs: the
 *            16 heaviest callers and callees of every function
 *   flame    the flame graph tree in preorder: f (function, -1 for the
 *            root), d (depth), v (samples); frames below flame.min samples
 *            were left out by plop-render (flame.omitted samples in all)
 *   diff     only in a comparison (plop-render --base): total0 (the base
 *            side's samples) and mode ("share": changes in points of each
 *            side's share of its own total; "absolute": in samples).  Then
 *            funcs also has self0 and incl0 (the base side's counts) and
 *            moved (1 when the change is beyond sampling noise); total,
 *            self, incl, edges and flame are the new side's, and colours
 *            say grew (red), shrank (green) or held (grey).  flame also
 *            has v0 (each call path's base samples) and c (its colour,
 *            by its own change, indexing colors).
 *
 * Every name from the profile reaches the page through textContent or
 * setAttribute, never through HTML parsing, so hostile names stay text.
 */
(function () {
    "use strict";

    var data = JSON.parse(document.getElementById("plop-data").textContent);
    var F = data.funcs;
    var nfuncs = F.name.length;
    /* The graph SVG names the node of function i "n<i>" (render/gv.h). */
    F.gnode = [];
    for (var k0 = 0; k0 < nfuncs; k0++) {
        F.gnode.push("");
    }
    data.shown.forEach(function (id) {
        F.gnode[id] = "n" + id;
    });
    var total = data.total > 0 ? data.total : 1;
    var D = data.diff || null;
    var total0 = D && D.total0 > 0 ? D.total0 : 1;
    var state = {sel: -1, query: "", matches: null};

    var tooltip = document.getElementById("tooltip");

    /* ------------------------------------------------------------ helpers */

    function el(tag, cls, text) {
        var e = document.createElement(tag);
        if (cls) {
            e.className = cls;
        }
        if (text !== undefined) {
            e.textContent = text;
        }
        return e;
    }

    function fmtInt(n) {
        var s = String(Math.round(n));
        var out = "";
        while (s.length > 3) {
            out = "," + s.slice(-3) + out;
            s = s.slice(0, -3);
        }
        return s + out;
    }

    function fmtSamples(n) {
        return fmtInt(n) + (n === 1 ? " sample" : " samples");
    }

    function pct(n) {
        var p = 100 * n / total;
        return (p >= 10 ? p.toFixed(1) : p >= 0.1 || p === 0 ? p.toFixed(2)
                : p.toPrecision(2)) + "%";
    }

    function pct0(n) {
        return (100 * n / total0).toFixed(1) + "%";
    }

    /* A comparison: new minus base of column key ("self" or "incl") of
     * function i, in points of share or in samples (D.mode). */
    function change(i, key) {
        if (D.mode === "absolute") {
            return F[key][i] - F[key + "0"][i];
        }
        return 100 * F[key][i] / total - 100 * F[key + "0"][i] / total0;
    }

    function fmtChange(v) {
        if (D.mode === "absolute") {
            return (v < 0 ? "-" : "+") + fmtInt(Math.abs(v));
        }
        var r = Math.round(v * 10) / 10;
        return (r < 0 ? "-" : "+") + Math.abs(r).toFixed(1);
    }

    function fileOf(i) {
        return data.files[F.file[i]];
    }

    /* "path:line", or "" for a frame without a file (other tools'
     * collapsed stacks): never a ":0". */
    function locOf(i) {
        var f = fileOf(i);
        return f ? f + ":" + F.line[i] : "";
    }

    function shortFile(path) {
        var parts = path.split("/");
        return parts.length > 2 ? parts.slice(-2).join("/") : path;
    }

    function colorOf(i) {
        return i < 0 ? "#c9ced6" : data.colors[F.color[i]];
    }

    /* Black or white text, whichever reads better on `hex`. */
    function inkOn(hex) {
        var r = parseInt(hex.substr(1, 2), 16);
        var g = parseInt(hex.substr(3, 2), 16);
        var b = parseInt(hex.substr(5, 2), 16);
        return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#1d2330" : "#ffffff";
    }

    /* ------------------------------------------------------------ tooltip */

    /* Shows the tooltip at ev: a title, an optional path, a table of rows. */
    function fillTip(ev, title, path, rows) {
        while (tooltip.firstChild) {
            tooltip.removeChild(tooltip.firstChild);
        }
        tooltip.appendChild(el("div", "t-name", title));
        if (path !== null) {
            tooltip.appendChild(el("div", "t-path", path));
        }
        var t = el("table");
        rows.forEach(function (r) {
            var tr = el("tr");
            r.forEach(function (c) {
                tr.appendChild(el("td", null, c));
            });
            t.appendChild(tr);
        });
        tooltip.appendChild(t);
        tooltip.hidden = false;
        moveTip(ev);
    }

    function showTip(ev, i, extra) {
        var rows = [];
        if (i >= 0) {
            rows.push(["self", fmtInt(F.self[i]) + " samples", pct(F.self[i])]);
            rows.push(["inclusive", fmtInt(F.incl[i]) + " samples", pct(F.incl[i])]);
            if (D) {
                rows.push(["base self", fmtInt(F.self0[i]) + " samples", pct0(F.self0[i])]);
                rows.push(["base incl.", fmtInt(F.incl0[i]) + " samples", pct0(F.incl0[i])]);
                rows.push(["change", "self " + fmtChange(change(i, "self")),
                           "incl. " + fmtChange(change(i, "incl"))]);
            }
        }
        if (extra) {
            rows = rows.concat(extra);
        }
        fillTip(ev, i < 0 ? "all samples" : F.name[i],
                i < 0 ? null : locOf(i), rows);
    }

    /* The tooltip of a box of hidden functions (tails index k). */
    function showTailTip(ev, k) {
        var T = data.tails;
        fillTip(ev, fmtInt(T[4 * k + 1]) + " hidden functions below "
                + F.name[T[4 * k]], null,
                [["running", fmtInt(T[4 * k + 2]) + " samples",
                  pct(T[4 * k + 2])],
                 ["each at most", fmtInt(T[4 * k + 3]) + " samples",
                  pct(T[4 * k + 3])]]);
    }

    function moveTip(ev) {
        var w = tooltip.offsetWidth;
        var h = tooltip.offsetHeight;
        var x = ev.clientX + 14;
        var y = ev.clientY + 16;
        if (x + w > window.innerWidth - 8) {
            x = Math.max(8, ev.clientX - w - 14);
        }
        if (y + h > window.innerHeight - 8) {
            y = Math.max(8, ev.clientY - h - 16);
        }
        tooltip.style.left = x + "px";
        tooltip.style.top = y + "px";
    }

    function hideTip() {
        tooltip.hidden = true;
    }

    /* ------------------------------------------------------------ graph */

    var graphBox = document.getElementById("graph");
    var svg = graphBox.querySelector("svg");
    var gnodeOf = {};           /* node title -> function index */
    var nodeEl = [];            /* function index -> <g class="node"> */
    var nodeEdges = {};         /* function index -> [<g class="edge">, other] */
    var vb0 = null;
    var vb = null;

    function initGraph() {
        if (!svg) {
            return;
        }
        for (var i = 0; i < nfuncs; i++) {
            if (F.gnode[i] !== "") {
                gnodeOf[F.gnode[i]] = i;
            }
        }
        var tailOf = {};
        for (var k = 0; data.tails && 4 * k < data.tails.length; k++) {
            tailOf["t" + data.tails[4 * k]] = k;
        }
        /* Our tooltip replaces the browser's: drop <title> and xlink:title. */
        svg.querySelectorAll("g.node").forEach(function (g) {
            var t = g.querySelector("title");
            var fi = t ? gnodeOf[t.textContent] : undefined;
            if (fi !== undefined) {
                nodeEl[fi] = g;
                g.setAttribute("data-f", fi);
            }
            else if (t && tailOf[t.textContent] !== undefined) {
                g.setAttribute("data-t", tailOf[t.textContent]);
            }
        });
        svg.querySelectorAll("g.edge").forEach(function (g) {
            var t = g.querySelector("title");
            if (!t) {
                return;
            }
            var ends = t.textContent.split("->");
            var a = gnodeOf[ends[0]];
            var b = gnodeOf[ends[1]];
            if (a === undefined || b === undefined) {
                return;
            }
            (nodeEdges[a] = nodeEdges[a] || []).push([g, b]);
            (nodeEdges[b] = nodeEdges[b] || []).push([g, a]);
        });
        svg.querySelectorAll("title").forEach(function (t) {
            t.parentNode.removeChild(t);
        });
        svg.querySelectorAll("a").forEach(function (a) {
            a.removeAttribute("xlink:title");
            a.removeAttribute("title");
        });
        var b = svg.viewBox.baseVal;
        if (b && b.width > 0) {
            vb0 = {x: b.x, y: b.y, w: b.width, h: b.height};
        }
        else {
            var bb = svg.getBBox();
            vb0 = {x: bb.x, y: bb.y, w: bb.width || 1, h: bb.height || 1};
        }
        svg.removeAttribute("width");
        svg.removeAttribute("height");
        fit();
        bindGraphEvents();
    }

    function applyVb() {
        svg.setAttribute("viewBox", vb.x + " " + vb.y + " " + vb.w + " " + vb.h);
    }

    function fit() {
        var m = 0.02;
        vb = {x: vb0.x - vb0.w * m, y: vb0.y - vb0.h * m,
              w: vb0.w * (1 + 2 * m), h: vb0.h * (1 + 2 * m)};
        applyVb();
    }

    function toSvg(cx, cy) {
        var ctm = svg.getScreenCTM();
        return {x: (cx - ctm.e) / ctm.a, y: (cy - ctm.f) / ctm.d};
    }

    function zoomAt(factor, cx, cy) {
        var nw = vb.w * factor;
        if (nw < vb0.w / 60 || nw > vb0.w * 8) {
            return;
        }
        var p = toSvg(cx, cy);
        vb = {x: p.x - (p.x - vb.x) * factor, y: p.y - (p.y - vb.y) * factor,
              w: nw, h: vb.h * factor};
        applyVb();
    }

    function zoomCenter(factor) {
        var r = svg.getBoundingClientRect();
        zoomAt(factor, r.left + r.width / 2, r.top + r.height / 2);
    }

    function panBy(dxScreen, dyScreen) {
        var s = svg.getScreenCTM().a;
        vb.x -= dxScreen / s;
        vb.y -= dyScreen / s;
        applyVb();
    }

    /* Pans (and zooms in if the graph is tiny) so node g is in the middle. */
    function centerOn(g) {
        var r = svg.getBoundingClientRect();
        var n = g.getBoundingClientRect();
        /* Zoom in only as far as needed to make the node readable. */
        if (n.height > 0 && n.height < 36) {
            zoomCenter(Math.max(n.height / 48, vb0.w / 59 / vb.w));
            n = g.getBoundingClientRect();
        }
        panBy(r.left + r.width / 2 - (n.left + n.width / 2),
              r.top + r.height / 2 - (n.top + n.height / 2));
    }

    function bindGraphEvents() {
        var drag = null;
        graphBox.addEventListener("wheel", function (ev) {
            ev.preventDefault();
            zoomAt(Math.exp(ev.deltaY * 0.0015), ev.clientX, ev.clientY);
        }, {passive: false});
        graphBox.addEventListener("mousedown", function (ev) {
            if (ev.button !== 0) {
                return;
            }
            drag = {x: ev.clientX, y: ev.clientY, moved: false};
            graphBox.focus({preventScroll: true});
        });
        window.addEventListener("mousemove", function (ev) {
            if (!drag) {
                return;
            }
            var dx = ev.clientX - drag.x;
            var dy = ev.clientY - drag.y;
            if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) {
                return;
            }
            drag.moved = true;
            graphBox.classList.add("panning");
            hideTip();
            panBy(dx, dy);
            drag.x = ev.clientX;
            drag.y = ev.clientY;
        });
        window.addEventListener("mouseup", function () {
            if (drag && drag.moved) {
                graphBox.classList.remove("panning");
                /* The click that follows a drag is not a selection. */
                graphBox.addEventListener("click", function (e) {
                    e.stopPropagation();
                }, {capture: true, once: true});
            }
            drag = null;
        });
        graphBox.addEventListener("click", function (ev) {
            var g = ev.target.closest("g.node");
            if (g && g.hasAttribute("data-f")) {
                var fi = +g.getAttribute("data-f");
                select(fi === state.sel ? -1 : fi, "graph");
            }
            else {
                select(-1, "graph");
            }
        });
        graphBox.addEventListener("mouseover", function (ev) {
            var g = ev.target.closest("g.node");
            if (g && g.hasAttribute("data-f") && !drag) {
                showTip(ev, +g.getAttribute("data-f"));
            }
            else if (g && g.hasAttribute("data-t") && !drag) {
                showTailTip(ev, +g.getAttribute("data-t"));
            }
        });
        graphBox.addEventListener("mousemove", function (ev) {
            if (!tooltip.hidden) {
                moveTip(ev);
            }
        });
        graphBox.addEventListener("mouseout", function (ev) {
            var g = ev.target.closest("g.node");
            if (g && !g.contains(ev.relatedTarget)) {
                hideTip();
            }
        });
        graphBox.addEventListener("keydown", function (ev) {
            var step = 60;
            switch (ev.key) {
            case "+": case "=": zoomCenter(1 / 1.25); break;
            case "-": case "_": zoomCenter(1.25); break;
            case "0": fit(); break;
            case "ArrowLeft": panBy(step, 0); break;
            case "ArrowRight": panBy(-step, 0); break;
            case "ArrowUp": panBy(0, step); break;
            case "ArrowDown": panBy(0, -step); break;
            default: return;
            }
            ev.preventDefault();
        });
        document.getElementById("zoom-in").addEventListener("click", function () {
            zoomCenter(1 / 1.25);
        });
        document.getElementById("zoom-out").addEventListener("click", function () {
            zoomCenter(1.25);
        });
        document.getElementById("fit").addEventListener("click", fit);
    }

    function markGraph() {
        if (!svg) {
            return;
        }
        svg.querySelectorAll(".sel, .nbr").forEach(function (e) {
            e.classList.remove("sel", "nbr");
        });
        var g = state.sel >= 0 ? nodeEl[state.sel] : undefined;
        svg.classList.toggle("dim", g !== undefined);
        if (g) {
            g.classList.add("sel");
            (nodeEdges[state.sel] || []).forEach(function (pair) {
                pair[0].classList.add("nbr");
                if (nodeEl[pair[1]] && pair[1] !== state.sel) {
                    nodeEl[pair[1]].classList.add("nbr");
                }
            });
        }
        var m = state.matches;
        svg.classList.toggle("searching", m !== null);
        nodeEl.forEach(function (n, fi) {
            if (n) {
                n.classList.toggle("match", m !== null && m[fi] === 1);
            }
        });
    }

    /* ------------------------------------------------------------ details */

    var callers = null;
    var callees = null;

    function indexEdges() {
        callers = [];
        callees = [];
        var e = data.edges;
        for (var k = 0; k + 2 < e.length; k += 3) {
            (callees[e[k]] = callees[e[k]] || []).push([e[k + 1], e[k + 2]]);
            (callers[e[k + 1]] = callers[e[k + 1]] || []).push([e[k], e[k + 2]]);
        }
    }

    function edgeList(title, list) {
        var frag = document.createDocumentFragment();
        if (!list || list.length === 0) {
            return frag;
        }
        frag.appendChild(el("h4", null, title + " (" + list.length + ")"));
        var ul = el("ul");
        list.slice().sort(function (a, b) {
            return b[1] - a[1] || a[0] - b[0];
        }).slice(0, 15).forEach(function (p) {
            var li = el("li");
            li.appendChild(el("span", "n", F.name[p[0]]));
            li.appendChild(el("span", "v", pct(p[1])));
            li.title = locOf(p[0]);
            li.addEventListener("click", function () {
                select(p[0], "details");
            });
            ul.appendChild(li);
        });
        frag.appendChild(ul);
        return frag;
    }

    function showDetails() {
        var box = document.getElementById("details");
        while (box.firstChild) {
            box.removeChild(box.firstChild);
        }
        var i = state.sel;
        if (i < 0) {
            box.appendChild(el("p", "muted", "Select a function in the graph, " +
                "the flame graph or the table to see where its time goes."));
            return;
        }
        if (callers === null) {
            indexEdges();
        }
        box.appendChild(el("h3", null, F.name[i]));
        box.appendChild(el("p", "path", locOf(i)));
        var dl = el("dl");
        [["Self", fmtInt(F.self[i]) + " (" + pct(F.self[i]) + ")"],
         ["Inclusive", fmtInt(F.incl[i]) + " (" + pct(F.incl[i]) + ")"],
         ["In graph", nodeEl[i] ? "yes" : "no (pruned)"]].forEach(function (r) {
            dl.appendChild(el("dt", null, r[0]));
            dl.appendChild(el("dd", null, r[1]));
        });
        box.appendChild(dl);
        var bar = el("div", "bar");
        var fill = el("span");
        fill.style.width = (100 * F.incl[i] / total).toFixed(2) + "%";
        bar.appendChild(fill);
        box.appendChild(bar);
        box.appendChild(edgeList("Callers", callers[i]));
        box.appendChild(edgeList("Callees", callees[i]));
    }

    /* ------------------------------------------------------------ flame */

    var FL = data.flame;
    var nfr = FL.f.length;
    var frX = new Float64Array(nfr);
    var frEnd = new Int32Array(nfr);
    var frParent = new Int32Array(nfr);
    var flameSvg = document.getElementById("flame-svg");
    var SVG_NS = flameSvg.namespaceURI;
    var ROW = 18;
    var flameZoom = 0;
    var flameWidth = 0;

    function layoutFlame() {
        var last = [];
        var next = new Float64Array(nfr);
        for (var i = 0; i < nfr; i++) {
            var d = FL.d[i];
            frEnd[i] = i + 1;
            if (d === 0) {
                frParent[i] = -1;
                frX[i] = 0;
            }
            else {
                var p = last[d - 1];
                frParent[i] = p;
                frX[i] = next[p];
                next[p] += FL.v[i];
            }
            next[i] = frX[i];
            last[d] = i;
        }
        for (i = nfr - 1; i > 0; i--) {
            var q = frParent[i];
            if (q >= 0 && frEnd[i] > frEnd[q]) {
                frEnd[q] = frEnd[i];
            }
        }
    }

    function frameName(i) {
        return FL.f[i] < 0 ? "all" : F.name[FL.f[i]];
    }

    function addFrame(parent, i, x, w, anc) {
        var f = FL.f[i];
        var g = document.createElementNS(SVG_NS, "g");
        g.setAttribute("class", "fr" + (anc ? " anc" : "") +
            (f >= 0 && f === state.sel ? " hl" : "") +
            (f >= 0 && state.matches !== null && state.matches[f] === 1 ? " match" : ""));
        g.setAttribute("data-i", i);
        var y = FL.d[i] * ROW;
        var r = document.createElementNS(SVG_NS, "rect");
        r.setAttribute("x", x.toFixed(1));
        r.setAttribute("y", y);
        r.setAttribute("width", Math.max(w, 0.5).toFixed(1));
        r.setAttribute("height", ROW - 1);
        /* A comparison colours each call path by its own change. */
        var fill = FL.c ? data.colors[FL.c[i]] : colorOf(f);
        r.setAttribute("fill", fill);
        g.appendChild(r);
        if (w > 30) {
            var name = frameName(i);
            var fit = Math.floor((w - 8) / 6.4);
            if (fit >= 2) {
                var t = document.createElementNS(SVG_NS, "text");
                t.setAttribute("x", (x + 4).toFixed(1));
                t.setAttribute("y", y + 13);
                t.setAttribute("fill", inkOn(fill));
                t.textContent = name.length > fit ? name.slice(0, fit - 1) + "\u2026" : name;
                g.appendChild(t);
            }
        }
        parent.appendChild(g);
    }

    function renderFlame() {
        if (nfr === 0) {
            return;
        }
        var W = document.getElementById("flame").clientWidth || 1000;
        flameWidth = W;
        var z = flameZoom;
        var x0 = frX[z];
        var scale = W / FL.v[z];
        var maxd = 0;
        var frag = document.createDocumentFragment();
        for (var a = frParent[z]; a >= 0; a = frParent[a]) {
            addFrame(frag, a, 0, W, true);
        }
        var i = z;
        while (i < frEnd[z]) {
            var w = FL.v[i] * scale;
            /* Slivers under a pixel can be neither seen nor clicked. */
            if (w < 1) {
                i = frEnd[i];
                continue;
            }
            addFrame(frag, i, (frX[i] - x0) * scale, w, false);
            if (FL.d[i] > maxd) {
                maxd = FL.d[i];
            }
            i++;
        }
        while (flameSvg.firstChild) {
            flameSvg.removeChild(flameSvg.firstChild);
        }
        flameSvg.appendChild(frag);
        flameSvg.setAttribute("height", (maxd + 1) * ROW);
        flameSvg.setAttribute("viewBox", "0 0 " + W + " " + (maxd + 1) * ROW);
        document.getElementById("flame-reset").disabled = z === 0;
        renderCrumbs();
    }

    function renderCrumbs() {
        var box = document.getElementById("flame-path");
        while (box.firstChild) {
            box.removeChild(box.firstChild);
        }
        if (flameZoom === 0) {
            box.appendChild(document.createTextNode("Showing all samples."));
            return;
        }
        var path = [];
        for (var a = flameZoom; a >= 0; a = frParent[a]) {
            path.unshift(a);
        }
        path.forEach(function (a, k) {
            if (k > 0) {
                box.appendChild(document.createTextNode(" \u203a "));
            }
            var b = el("button", null, frameName(a));
            b.type = "button";
            b.addEventListener("click", function () {
                zoomFlame(a);
            });
            box.appendChild(b);
        });
        box.appendChild(document.createTextNode("  " + fmtInt(FL.v[flameZoom]) +
            " samples, " + pct(FL.v[flameZoom]) + " of all"));
    }

    function zoomFlame(i) {
        flameZoom = i;
        renderFlame();
    }

    function initFlame() {
        layoutFlame();
        var note = document.getElementById("flame-note");
        note.textContent = fmtInt(nfr) + " frames" + (FL.omitted === 0
            ? "; every frame of the profile is shown."
            : "; frames under " + fmtSamples(FL.min) + " (" + pct(FL.min) +
              ") are left out: " + fmtSamples(FL.omitted) + ", " +
              pct(FL.omitted) + " of all.");
        flameSvg.addEventListener("click", function (ev) {
            var g = ev.target.closest("g.fr");
            if (!g) {
                return;
            }
            var i = +g.getAttribute("data-i");
            zoomFlame(i === flameZoom ? Math.max(frParent[i], 0) : i);
            if (FL.f[i] >= 0) {
                select(FL.f[i], "flame");
            }
        });
        flameSvg.addEventListener("mouseover", function (ev) {
            var g = ev.target.closest("g.fr");
            if (!g) {
                return;
            }
            var i = +g.getAttribute("data-i");
            var extra = [["this frame", fmtInt(FL.v[i]) + " samples", pct(FL.v[i])]];
            if (D) {
                var fch = D.mode === "absolute" ? FL.v[i] - FL.v0[i]
                    : 100 * FL.v[i] / total - 100 * FL.v0[i] / total0;
                extra.push(["frame in base", fmtInt(FL.v0[i]) + " samples", pct0(FL.v0[i])]);
                extra.push(["frame change", fmtChange(fch), ""]);
            }
            if (flameZoom !== 0) {
                extra.push(["of zoomed", "",
                    (100 * FL.v[i] / FL.v[flameZoom]).toFixed(1) + "%"]);
            }
            showTip(ev, FL.f[i], extra);
        });
        flameSvg.addEventListener("mousemove", function (ev) {
            if (!tooltip.hidden) {
                moveTip(ev);
            }
        });
        flameSvg.addEventListener("mouseleave", hideTip);
        document.getElementById("flame-reset").addEventListener("click", function () {
            zoomFlame(0);
        });
        var pending = false;
        window.addEventListener("resize", function () {
            if (pending) {
                return;
            }
            pending = true;
            window.requestAnimationFrame(function () {
                pending = false;
                if (document.getElementById("flame").clientWidth !== flameWidth) {
                    renderFlame();
                }
            });
        });
        renderFlame();
    }

    function markFlame() {
        flameSvg.querySelectorAll("g.fr").forEach(function (g) {
            var f = FL.f[+g.getAttribute("data-i")];
            g.classList.toggle("hl", f >= 0 && f === state.sel);
            g.classList.toggle("match", f >= 0 && state.matches !== null &&
                               state.matches[f] === 1);
        });
    }

    /* ------------------------------------------------------------ table */

    var tbody = document.querySelector("#funcs tbody");
    var PAGE = 200;
    var sortKey = "self";
    var sortDesc = true;
    var order = null;
    var shown = PAGE;
    var lowerText = null;

    function compare(a, b) {
        var d = 0;
        switch (sortKey) {
        case "name":
            d = F.name[a] < F.name[b] ? -1 : F.name[a] > F.name[b] ? 1 : 0;
            break;
        case "loc":
            var fa = fileOf(a);
            var fb = fileOf(b);
            d = fa < fb ? -1 : fa > fb ? 1 : F.line[a] - F.line[b];
            break;
        case "self": case "selfp":
            d = F.self[a] - F.self[b];
            break;
        case "self0p":
            d = F.self0[a] / total0 - F.self0[b] / total0;
            break;
        case "chg":
            d = change(a, "self") - change(b, "self");
            break;
        case "ichg":
            d = change(a, "incl") - change(b, "incl");
            break;
        default:
            d = F.incl[a] - F.incl[b];
        }
        if (sortDesc) {
            d = -d;
        }
        return d || a - b;
    }

    function sortTable() {
        order = [];
        for (var i = 0; i < nfuncs; i++) {
            order.push(i);
        }
        order.sort(compare);
        document.querySelectorAll("#funcs th").forEach(function (th) {
            var k = th.getAttribute("data-key");
            if (k === sortKey) {
                th.setAttribute("aria-sort", sortDesc ? "descending" : "ascending");
            }
            else {
                th.removeAttribute("aria-sort");
            }
        });
    }

    function pctCell(n) {
        var td = el("td", "num pct");
        var bar = el("i");
        bar.style.width = Math.min(100, 100 * n / total).toFixed(1) + "%";
        td.appendChild(bar);
        td.appendChild(el("span", null, pct(n)));
        return td;
    }

    function changeCell(i, key) {
        var v = change(i, key);
        var cls = !F.moved[i] ? "held" : v > 0 ? "up" : v < 0 ? "down" : "held";
        return el("td", "num chg " + cls, fmtChange(v));
    }

    function renderTable() {
        var rows = state.matches === null ? order : order.filter(function (i) {
            return state.matches[i] === 1;
        });
        var frag = document.createDocumentFragment();
        var n = Math.min(rows.length, shown);
        for (var k = 0; k < n; k++) {
            var i = rows[k];
            var tr = el("tr");
            tr.setAttribute("data-f", i);
            if (i === state.sel) {
                tr.className = "sel";
            }
            var name = el("td", "name");
            var sw = el("span", "sw");
            sw.style.background = colorOf(i);
            name.appendChild(sw);
            name.appendChild(document.createTextNode(F.name[i]));
            if (!F.gnode[i]) {
                name.appendChild(el("span", "off", "not in graph"));
            }
            name.title = F.name[i];
            tr.appendChild(name);
            var loc = el("td", "loc");
            /* rtl keeps the end of a long path in view; the bdi keeps the
             * text itself left to right. */
            loc.appendChild(el("bdi", null, locOf(i)));
            loc.title = locOf(i);
            tr.appendChild(loc);
            tr.appendChild(el("td", "num", fmtInt(F.self[i])));
            tr.appendChild(pctCell(F.self[i]));
            tr.appendChild(el("td", "num", fmtInt(F.incl[i])));
            tr.appendChild(pctCell(F.incl[i]));
            if (D) {
                tr.appendChild(el("td", "num", pct0(F.self0[i])));
                tr.appendChild(changeCell(i, "self"));
                tr.appendChild(changeCell(i, "incl"));
            }
            frag.appendChild(tr);
        }
        while (tbody.firstChild) {
            tbody.removeChild(tbody.firstChild);
        }
        tbody.appendChild(frag);
        var foot = document.getElementById("table-foot");
        while (foot.firstChild) {
            foot.removeChild(foot.firstChild);
        }
        foot.appendChild(document.createTextNode("Showing " + fmtInt(n) + " of " +
            fmtInt(rows.length) + (state.matches === null ? " functions."
            : " matching functions (" + fmtInt(nfuncs) + " in all).")));
        if (n < rows.length) {
            var more = el("button", null, "Show " + fmtInt(Math.min(PAGE * 5,
                rows.length - n)) + " more");
            more.type = "button";
            more.addEventListener("click", function () {
                shown += PAGE * 5;
                renderTable();
            });
            foot.appendChild(more);
        }
    }

    /* A comparison adds the base's self %, the self change (the default
     * order) and the inclusive change. */
    function addDiffColumns() {
        document.getElementById("funcs").classList.add("diff");
        var row = document.querySelector("#funcs thead tr");
        [["self0p", "Base self %"], ["chg", "Self change"],
         ["ichg", "Incl. change"]].forEach(function (c) {
            var th = el("th", "num", c[1]);
            th.setAttribute("data-key", c[0]);
            th.setAttribute("scope", "col");
            row.appendChild(th);
        });
        sortKey = "chg";
    }

    function initTable() {
        if (D) {
            addDiffColumns();
        }
        document.querySelectorAll("#funcs th").forEach(function (th) {
            th.addEventListener("click", function () {
                var k = th.getAttribute("data-key");
                if (k === sortKey) {
                    sortDesc = !sortDesc;
                }
                else {
                    sortKey = k;
                    sortDesc = k !== "name" && k !== "loc";
                }
                sortTable();
                renderTable();
            });
        });
        tbody.addEventListener("click", function (ev) {
            var tr = ev.target.closest("tr");
            if (tr) {
                select(+tr.getAttribute("data-f"), "table");
            }
        });
        sortTable();
        renderTable();
    }

    function markTable() {
        tbody.querySelectorAll("tr").forEach(function (tr) {
            tr.classList.toggle("sel", +tr.getAttribute("data-f") === state.sel);
        });
    }

    /* ------------------------------------------------------------ search */

    function runSearch(q) {
        q = q.trim().toLowerCase();
        state.query = q;
        var count = document.getElementById("search-count");
        if (q === "") {
            state.matches = null;
            count.textContent = "";
        }
        else {
            if (lowerText === null) {
                lowerText = [];
                for (var i = 0; i < nfuncs; i++) {
                    lowerText.push((F.name[i] + "\u0000" + locOf(i)).toLowerCase());
                }
            }
            var m = new Uint8Array(nfuncs);
            var n = 0;
            var ing = 0;
            for (i = 0; i < nfuncs; i++) {
                if (lowerText[i].indexOf(q) >= 0) {
                    m[i] = 1;
                    n++;
                    if (nodeEl[i]) {
                        ing++;
                    }
                }
            }
            state.matches = m;
            count.textContent = fmtInt(n) + (n === 1 ? " function" : " functions") +
                " match, " + fmtInt(ing) + " in the graph";
        }
        shown = PAGE;
        markGraph();
        markFlame();
        if (order !== null) {
            renderTable();
        }
    }

    function initSearch() {
        var box = document.getElementById("search");
        var timer = 0;
        box.addEventListener("input", function () {
            window.clearTimeout(timer);
            timer = window.setTimeout(function () {
                runSearch(box.value);
            }, nfuncs > 5000 ? 120 : 0);
        });
        box.addEventListener("keydown", function (ev) {
            if (ev.key === "Enter") {
                window.clearTimeout(timer);
                runSearch(box.value);
                var best = -1;
                for (var i = 0; state.matches && i < nfuncs; i++) {
                    if (state.matches[i] && (best < 0 || F.incl[i] > F.incl[best])) {
                        best = i;
                    }
                }
                if (best >= 0) {
                    select(best, "search");
                }
            }
            else if (ev.key === "Escape") {
                box.value = "";
                runSearch("");
            }
        });
        document.addEventListener("keydown", function (ev) {
            var tag = ev.target.tagName;
            if (tag === "INPUT" || tag === "TEXTAREA") {
                return;
            }
            if (ev.key === "/") {
                ev.preventDefault();
                box.focus();
            }
            else if (ev.key === "Escape") {
                select(-1, "key");
            }
        });
        document.getElementById("clear").addEventListener("click", function () {
            select(-1, "button");
        });
    }

    /* ------------------------------------------------------------ selection */

    function select(i, source) {
        state.sel = i;
        markGraph();
        markFlame();
        markTable();
        showDetails();
        var label = document.getElementById("selection");
        while (label.firstChild) {
            label.removeChild(label.firstChild);
        }
        document.getElementById("clear").hidden = i < 0;
        if (i >= 0) {
            label.appendChild(document.createTextNode("Selected: "));
            label.appendChild(el("b", null, F.name[i]));
            if (source !== "graph" && nodeEl[i]) {
                centerOn(nodeEl[i]);
            }
        }
    }

    /* ------------------------------------------------------------ start */

    /* The header and the graph paint first; the flame graph and the
     * table are built right after that first frame. */
    initGraph();
    initSearch();
    window.requestAnimationFrame(function () {
        window.setTimeout(function () {
            initFlame();
            initTable();
            document.documentElement.setAttribute("data-ready", "1");
        }, 0);
    });
})();
