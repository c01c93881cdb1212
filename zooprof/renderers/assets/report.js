/* zooprof HTML report: the sortable layer table and small SVG charts, drawn from the JSON block
   #zooprof-data. Every name reaches the page through textContent, never as markup; nothing is
   fetched. When done, <html> gets data-rendered="1". */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("zooprof-data").textContent);
  var SVGNS = "http://www.w3.org/2000/svg";
  var W = 900, H = 300, M = { l: 64, r: 16, t: 28, b: 40 };
  var COLORS = ["--s0", "--s1", "--s2", "--s3", "--s4", "--s5"];

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function sv(parent, tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function color(i) { return "var(" + COLORS[i % COLORS.length] + ")"; }
  function fixed(x, d) { return x == null ? "n/a" : x.toFixed(d); }
  function si(x) {
    var a = Math.abs(x), units = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
    for (var i = 0; i < units.length; i++) if (a >= units[i][0]) return +(x / units[i][0]).toPrecision(3) + units[i][1];
    return String(+x.toPrecision(3));
  }

  /* one tooltip for the page */
  var tip = el("div", { class: "tip", role: "tooltip" });
  document.body.appendChild(tip);
  function showTip(ev, text) {
    tip.textContent = text;
    tip.style.display = "block";
    var x = ev.pageX + 14, maxX = window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 8;
    tip.style.left = Math.max(window.scrollX + 4, Math.min(x, maxX)) + "px";
    tip.style.top = ev.pageY + 14 + "px";
  }
  function hideTip() { tip.style.display = "none"; }

  /* scales and ticks */
  function scale(d0, d1, r0, r1, log) {
    if (log) { d0 = Math.log10(d0); d1 = Math.log10(d1); }
    var k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
    return function (v) { return r0 + ((log ? Math.log10(v) : v) - d0) * k; };
  }
  function ticks(lo, hi, log) {
    var out = [], v;
    if (log) {
      var a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi)), mults = b - a <= 2 ? [1, 2, 5] : [1];
      for (v = a; v <= b; v++) mults.forEach(function (m) { out.push(+(m * Math.pow(10, v)).toPrecision(12)); });
      return out;
    }
    if (hi === lo) hi = lo + 1;
    var raw = (hi - lo) / 5, p = Math.pow(10, Math.floor(Math.log10(raw))), e = raw / p;
    var step = p * (e >= 7.5 ? 10 : e >= 3.5 ? 5 : e >= 1.5 ? 2 : 1);
    for (v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
    return out;
  }
  function extent(values, log) {
    var v = values.filter(function (x) { return x != null && isFinite(x) && (!log || x > 0); });
    if (!v.length) return [0, 1];
    var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
    return lo === hi ? (log ? [lo / 2, hi * 2] : [lo - 1, hi + 1]) : [lo, hi];
  }
  function wantsLog(values) {
    var e = extent(values, true);
    return values.every(function (x) { return x == null || x > 0; }) && e[1] / e[0] > 50;
  }

  /* a chart frame: title, axes with ticks and labels, legend; returns the plot's scales */
  function frame(container, o) {
    container.textContent = "";
    var svg = sv(null, "svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": o.title });
    container.appendChild(svg);
    sv(svg, "text", { x: M.l, y: 16, class: "title" }, o.title);
    var x = scale(o.x[0], o.x[1], M.l, W - M.r, o.xlog), y = scale(o.y[0], o.y[1], H - M.b, M.t, o.ylog);
    var g = sv(svg, "g", { class: "axis" });
    sv(g, "line", { x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b });
    sv(g, "line", { x1: M.l, x2: M.l, y1: M.t, y2: H - M.b });
    var grid = sv(svg, "g", { class: "grid" });
    if (!o.noYTicks) ticks(o.y[0], o.y[1], o.ylog).forEach(function (t) {
      if (t < o.y[0] || t > o.y[1]) return;
      sv(grid, "line", { x1: M.l, x2: W - M.r, y1: y(t), y2: y(t) });
      sv(g, "text", { x: M.l - 6, y: y(t) + 4, "text-anchor": "end" }, (o.yfmt || si)(t));
    });
    if (!o.noXTicks) ticks(o.x[0], o.x[1], o.xlog).forEach(function (t) {
      if (t < o.x[0] || t > o.x[1]) return;
      sv(g, "text", { x: x(t), y: H - M.b + 16, "text-anchor": "middle" }, (o.xfmt || si)(t));
    });
    sv(g, "text", { x: (M.l + W - M.r) / 2, y: H - 6, "text-anchor": "middle" }, o.xlabel);
    sv(g, "text", { x: 14, y: (M.t + H - M.b) / 2, "text-anchor": "middle",
                    transform: "rotate(-90 14 " + (M.t + H - M.b) / 2 + ")" }, o.ylabel);
    if (o.legend && o.legend.length > 1) {
      var lg = el("div", { class: "legend" });
      o.legend.forEach(function (name, i) {
        var s = el("span", {}, name);
        s.style.setProperty("--c", color(i));
        lg.appendChild(s);
      });
      container.appendChild(lg);
    }
    return { svg: svg, x: x, y: y };
  }

  /* hover anywhere over the plot area: index of the nearest x position */
  function hoverIndex(f, n, xOf, text) {
    var hit = sv(f.svg, "rect", { x: M.l, y: M.t, width: W - M.l - M.r, height: H - M.t - M.b,
                                  fill: "transparent", class: "hit" });
    var cursor = sv(f.svg, "line", { y1: M.t, y2: H - M.b, stroke: "currentColor", opacity: 0 });
    hit.addEventListener("mousemove", function (ev) {
      var box = f.svg.getBoundingClientRect(), px = (ev.clientX - box.left) * W / box.width, best = -1, d = Infinity;
      for (var i = 0; i < n; i++) {
        var xi = xOf(i);
        if (xi != null && Math.abs(xi - px) < d) { d = Math.abs(xi - px); best = i; }
      }
      if (best < 0) return;
      cursor.setAttribute("x1", xOf(best)); cursor.setAttribute("x2", xOf(best)); cursor.setAttribute("opacity", 0.3);
      showTip(ev, text(best));
    });
    hit.addEventListener("mouseleave", function () { cursor.setAttribute("opacity", 0); hideTip(); });
  }

  /* bars: items [{label, value, tip}], value null drawn as a gap */
  function barChart(container, items, o) {
    var max = Math.max.apply(null, items.map(function (d) { return d.value || 0; }).concat([1e-12]));
    var f = frame(container, { title: o.title, x: [0, Math.max(items.length, 1)], y: [0, max * 1.05], xlabel: o.xlabel,
                               ylabel: o.ylabel, yfmt: o.yfmt, noXTicks: true });
    var bw = (W - M.l - M.r) / Math.max(items.length, 1);
    var bars = sv(f.svg, "g", { class: "bars" });
    items.forEach(function (d, i) {
      if (!d.value) return;  /* null (not counted, not timed) and 0 draw no bar; the tooltip says which */
      var top = f.y(d.value);
      sv(bars, "rect", { x: M.l + i * bw + bw * 0.1, width: Math.max(bw * 0.8, 0.5), y: top,
                         height: Math.max(H - M.b - top, 0), fill: color(o.series || 0), class: "bar" });
    });
    hoverIndex(f, items.length, function (i) { return M.l + (i + 0.5) * bw; },
               function (i) { return items[i].tip; });
  }

  /* lines: xs shared, series [{name, ys}] (null breaks a line) */
  function lineChart(container, xs, series, o) {
    var all = [];
    series.forEach(function (s) { all = all.concat(s.ys); });
    var ye = extent(all, false);
    var f = frame(container, { title: o.title, x: extent(xs, false), y: [Math.min(0, ye[0]), ye[1]], xlabel: o.xlabel,
                               ylabel: o.ylabel, xfmt: o.xfmt, legend: series.map(function (s) { return s.name; }) });
    series.forEach(function (s, k) {
      var d = "", pen = false;
      s.ys.forEach(function (v, i) {
        if (v == null || xs[i] == null) { pen = false; return; }
        d += (pen ? "L" : "M") + f.x(xs[i]).toFixed(1) + "," + f.y(v).toFixed(1);
        pen = true;
      });
      sv(f.svg, "path", { d: d || "M0,0", fill: "none", stroke: color(k), "stroke-width": 2 });
      if (o.markers) s.ys.forEach(function (v, i) {
        if (v != null) sv(f.svg, "circle", { cx: f.x(xs[i]), cy: f.y(v), r: 2.5, fill: color(k) });
      });
    });
    if (o.marks) o.marks.forEach(function (m) {
      sv(f.svg, "line", { x1: f.x(m.x), x2: f.x(m.x), y1: M.t, y2: H - M.b, stroke: "var(--warn)",
                          "stroke-dasharray": "4 3" });
      sv(f.svg, "text", { x: f.x(m.x) + 4, y: M.t + 12 }, m.text);
    });
    hoverIndex(f, xs.length, function (i) { return xs[i] == null ? null : f.x(xs[i]); }, o.tip);
  }

  /* latency distribution: one band per measurement, every sample as a dot, min-max whisker,
     median and p99 ticks (figures from the result, none computed here) */
  function stripChart(container, groups) {
    var all = [];
    groups.forEach(function (g) { all = all.concat(g.samples, [g.min, g.max]); });
    var xe = extent(all, false), band = (H - M.t - M.b) / Math.max(groups.length, 1);
    var lo = Math.max(0, xe[0] - (xe[1] - xe[0]) * 0.05), hi = xe[1] + (xe[1] - xe[0]) * 0.05;
    var f = frame(container, { title: "Latency per runtime x batch: every timed sample; thick tick median, thin tick p99, line min to max",
                               x: [lo, hi], y: [0, 1], xlabel: "latency (ms)", ylabel: "", noYTicks: true,
                               xfmt: function (t) { return String(t); } });
    groups.forEach(function (g, k) {
      var cy = M.t + band * (k + 0.5), h = Math.min(band * 0.35, 30), d = "";
      sv(f.svg, "text", { x: M.l + 4, y: cy - h - 4 }, g.label);
      g.samples.forEach(function (v, i) {
        if (v == null) return;
        var jitter = ((i * 0.6180339887) % 1 - 0.5) * h * 1.4;  /* deterministic spread */
        d += "M" + f.x(v).toFixed(1) + "," + (cy + jitter).toFixed(1) + "h0";
      });
      sv(f.svg, "path", { d: d || "M0,0", stroke: color(k), "stroke-width": 4, "stroke-linecap": "round",
                          opacity: 0.45, fill: "none" });
      if (g.min != null && g.max != null) sv(f.svg, "line", { x1: f.x(g.min), x2: f.x(g.max), y1: cy, y2: cy,
                                                             stroke: color(k) });
      [[g.median, 2.2, 3], [g.p99, 1, 1.5]].forEach(function (m) {
        if (m[0] != null) sv(f.svg, "line", { x1: f.x(m[0]), x2: f.x(m[0]), y1: cy - h * m[1] / 2.2,
                                             y2: cy + h * m[1] / 2.2, stroke: "var(--fg)", "stroke-width": m[2] });
      });
      var hit = sv(f.svg, "rect", { x: M.l, y: cy - band / 2, width: W - M.l - M.r, height: band, fill: "transparent" });
      hit.addEventListener("mousemove", function (ev) { showTip(ev, g.tip); });
      hit.addEventListener("mouseleave", hideTip);
    });
  }

  /* scatter with a step line through the points marked pareto */
  function scatterChart(container, points) {
    var xs = points.map(function (p) { return p.x; }), ys = points.map(function (p) { return p.y; });
    var xlog = wantsLog(xs), ylog = wantsLog(ys), xe = extent(xs, xlog), ye = extent(ys, ylog);
    var pad = function (e, log) { return log ? [e[0] / 1.5, e[1] * 1.5] : [Math.max(0, e[0] - (e[1] - e[0]) * 0.08),
                                                                           e[1] + (e[1] - e[0]) * 0.08]; };
    var scales = xlog && ylog ? " (log scales)" : xlog ? " (log MACs axis)" : ylog ? " (log latency axis)" : "";
    var f = frame(container, { title: "Median latency vs MACs" + scales,
                               x: pad(xe, xlog), y: pad(ye, ylog), xlog: xlog, ylog: ylog, xlabel: "MACs per sample",
                               ylabel: "median latency (ms)", legend: ["dominated", "Pareto front"] });
    var front = points.filter(function (p) { return p.pareto; }).sort(function (a, b) { return a.x - b.x || a.y - b.y; });
    if (front.length) {
      var d = "M" + f.x(front[0].x) + "," + f.y(front[0].y);
      for (var i = 1; i < front.length; i++) d += "H" + f.x(front[i].x) + "V" + f.y(front[i].y);
      sv(f.svg, "path", { d: d, fill: "none", stroke: color(1), "stroke-width": 2, class: "pareto" });
    }
    points.forEach(function (p) {
      var c = sv(f.svg, "circle", { cx: f.x(p.x), cy: f.y(p.y), r: p.pareto ? 6 : 4.5,
                                    fill: color(p.pareto ? 1 : 0), opacity: 0.85, class: "point" });
      c.addEventListener("mousemove", function (ev) { showTip(ev, p.tip); });
      c.addEventListener("mouseleave", hideTip);
      var right = f.x(p.x) > W * 0.7;  /* labels near the right edge go to the left of the point */
      if (points.length <= 12) sv(f.svg, "text", { x: f.x(p.x) + (right ? -8 : 8), y: f.y(p.y) - 6,
                                                   "text-anchor": right ? "end" : "start" }, p.label);
    });
  }

  /* the sortable, filterable table; spec as built by zooprof.renderers.html_data */
  function makeTable(spec, extra) {
    var table = document.getElementById("layer-table"), filter = document.getElementById("layer-filter");
    var viewSel = document.getElementById("layer-view"), count = document.getElementById("layer-count");
    var state = { view: spec.initial_view, sort: null, dir: 1, text: "" };
    spec.views.forEach(function (v, i) { viewSel.appendChild(el("option", { value: i }, v.label)); });
    viewSel.value = String(spec.initial_view);
    if (spec.views.length < 2) viewSel.closest("label").hidden = true;

    function columns() { return spec.columns.concat(extra ? extra.columns() : []); }
    function cell(r, c) {
      var n = spec.columns.length;
      return c < n ? { text: spec.rows[r].c[c], value: spec.rows[r].v[c] } : extra.cell(r, c - n);
    }
    function cmp(a, b) {
      var an = a == null, bn = b == null;
      if (an || bn) return an === bn ? 0 : an ? 1 : -1;
      var at = typeof a === "number", bt = typeof b === "number";
      if (at && bt) return a - b;
      if (at !== bt) return at ? -1 : 1;
      return String(a).localeCompare(String(b), "en", { numeric: true });
    }
    function head() {
      var tr = el("tr");
      columns().forEach(function (c, i) {
        var th = el("th", { class: "sortable" + (c.numeric ? " n" : ""), tabindex: 0, "data-col": i }, c.heading);
        if (state.sort === i) th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
        if (c.title) th.title = c.title;
        function go() {
          if (state.sort === i) state.dir = -state.dir;
          else { state.sort = i; state.dir = c.numeric ? -1 : 1; }
          draw();
        }
        th.addEventListener("click", go);
        th.addEventListener("keydown", function (ev) { if (ev.key === "Enter") go(); });
        tr.appendChild(th);
      });
      table.tHead.textContent = "";
      table.tHead.appendChild(tr);
    }
    function draw() {
      head();
      var cols = columns(), ids = spec.views[state.view].rows.slice(), q = state.text.toLowerCase();
      if (q) ids = ids.filter(function (r) {
        return spec.rows[r].c.join(" ").toLowerCase().indexOf(q) >= 0;
      });
      if (state.sort != null) {
        var order = ids.map(function (r, k) { return [r, k]; });
        order.sort(function (a, b) {
          var va = cell(a[0], state.sort).value, vb = cell(b[0], state.sort).value;
          if (va == null || vb == null) return cmp(va, vb) || a[1] - b[1];
          return state.dir * cmp(va, vb) || a[1] - b[1];
        });
        ids = order.map(function (p) { return p[0]; });
      }
      var body = document.createElement("tbody");
      ids.forEach(function (r) {
        var row = spec.rows[r];
        var tr = el("tr", { class: (row.group ? "group " : "") + (row.counted === false ? "uncounted " : "") +
                                   (row.failed ? "failed" : "") });
        cols.forEach(function (c, i) {
          var x = cell(r, i), td = el("td", { class: (c.numeric ? "n" : "") + (i === 0 ? " name" : "") }, x.text);
          if (x.title) td.title = x.title;
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      table.replaceChild(body, table.tBodies[0]);
      count.textContent = ids.length + " of " + spec.views[state.view].rows.length + " rows";
      if (extra && extra.onView) extra.onView(spec.views[state.view].rows);
    }
    filter.addEventListener("input", function () { state.text = filter.value; draw(); });
    viewSel.addEventListener("change", function () { state.view = +viewSel.value; draw(); });
    return { draw: draw, state: state };
  }

  function report() {
    var result = data.result, table = data.table, timings = data.timings, labels = data.labels;
    var timingSel = document.getElementById("layer-timing"), current = 0;
    timings.forEach(function (t, i) { timingSel.appendChild(el("option", { value: i }, t.label)); });

    var extra = {
      columns: function () {
        if (!timings.length) return [];
        var t = timings[current];
        return [{ heading: "Time ms", numeric: true, title: t.label + ": " + t.method },
                { heading: "% time", numeric: true, title: "share of the sum of per-layer times" }];
      },
      cell: function (r, k) {
        var t = timings[current], v = k === 0 ? t.ms[r] : t.share[r];
        if (v == null) return { text: "n/a", value: null, title: "no timed layer of this name" };
        var text = k === 0 ? v.toFixed(3) : v.toFixed(1);
        return { text: t.partial[r] ? text + " *" : text, value: v, title: t.partial[r] || "" };
      },
      onView: function (rows) { macsChart(rows); }
    };
    var tbl = makeTable(table, extra);
    if (timingSel) timingSel.addEventListener("change", function () {
      current = +timingSel.value; tbl.draw(); layerLatencyChart();
    });
    tbl.draw();

    function macsChart(rows) {
      var box = document.getElementById("chart-macs");
      barChart(box, rows.map(function (r) {
        var row = table.rows[r];
        var pct = row.macs_pct == null ? "" : " (" + row.macs_pct.toFixed(1) + " % of MACs)";
        if (row.counted === false) return { value: null, tip: row.name + "\nMACs n/a (no counting rule: not counted)" };
        return { value: row.macs, tip: row.name + "\nMACs " + (row.macs == null ? "n/a" : row.macs.toLocaleString("en")) +
                 pct };
      }), { title: "MACs per layer (" + table.views[tbl.state.view].label + ", execution order)",
            xlabel: "layer", ylabel: "MACs" });
    }
    function layerLatencyChart() {
      var box = document.getElementById("chart-layer-latency");
      if (!box || !timings.length) return;
      var t = timings[current], pl = result.measurements[t.measurement].per_layer;
      barChart(box, pl.layers.map(function (l) {
        var ms = l.seconds == null ? null : l.seconds * 1000;
        return { value: ms, tip: l.name + (l.fused ? " [fused]" : "") + (l.op ? " (" + l.op + ")" : "") +
                 "\n" + fixed(ms, 3) + " ms" + (l.share == null ? "" : ", " + (l.share * 100).toFixed(1) + " % of the sum") };
      }), { title: "Latency per layer, " + t.label + " (" + (t.method || "per-layer timing") + ")",
            xlabel: "layer as timed by the runtime, in its order", ylabel: "ms", series: 1,
            yfmt: function (v) { return String(+v.toPrecision(3)); } });
    }
    layerLatencyChart();

    var latency = document.getElementById("chart-latency");
    if (latency) {
      var groups = [];
      result.measurements.forEach(function (m, i) {
        var tm = m.timing || {}, lat = tm.latency_ms || {};
        if (m.status !== "ok" || !tm.samples_ms || !tm.samples_ms.length) return;
        groups.push({ label: labels[i], samples: tm.samples_ms, min: lat.min, max: lat.max, median: lat.median,
                      p99: lat.p99, tip: labels[i] + "\nmedian " + fixed(lat.median, 3) + " ms, p99 " +
                      fixed(lat.p99, 3) + " ms\nmin " + fixed(lat.min, 3) + ", max " + fixed(lat.max, 3) +
                      " ms\n" + tm.samples_ms.length + " samples" +
                      (tm.calls_per_sample > 1 ? " (each the mean of " + tm.calls_per_sample + " calls)" : "") });
      });
      stripChart(latency, groups);
    }

    var rfBox = document.getElementById("chart-rf");
    if (rfBox) {
      var layers = result.layers, xs = [], names = [], marks = [], axes = 1;
      layers.forEach(function (l) {
        var s = l.rf && l.rf.size;
        if (Array.isArray(s) && s.some(function (v) { return v !== s[0]; })) axes = Math.max(axes, s.length);
      });
      var axisNames = axes === 2 ? ["H", "W"] : axes === 3 ? ["D", "H", "W"] : null;
      var series = (axisNames || ["RF size"]).map(function (n) { return { name: axisNames ? "RF " + n : n, ys: [] }; });
      layers.forEach(function (l, i) {
        var rf = l.rf, s = rf && rf.size;
        xs.push(i); names.push(l.name);
        if ((s === "global" || s === "unknown") && !marks.some(function (m) { return m.kind === s; })) {
          marks.push({ x: i, kind: s, text: s === "global" ? "global from here" : "unknown from here (op without rule)" });
        }
        series.forEach(function (se, k) {
          var v = Array.isArray(s) ? s[Math.min(k, s.length - 1)] : s;
          se.ys.push(typeof v === "number" ? v : null);
        });
      });
      lineChart(rfBox, xs, series, {
        title: "Receptive field size along depth (input pixels)", xlabel: "layer index (execution order)",
        ylabel: "RF size", markers: true, marks: marks, xfmt: function (t) { return String(t); },
        tip: function (i) {
          var rf = layers[i].rf;
          if (!rf) return names[i] + "\nno spatial axes";
          var txt = function (v) { return Array.isArray(v) ? v.join("×") : v == null ? "n/a" : String(v); };
          return names[i] + "\nRF " + txt(rf.size) + ", stride " + txt(rf.stride) +
                 (rf.aligned === false ? "\npaths not aligned" : "") + (rf.exact === false ? "\napproximate" : "");
        }
      });
    }

    Array.prototype.forEach.call(document.querySelectorAll(".power-chart"), function (box) {
      var i = +box.getAttribute("data-measurement"), tl = result.measurements[i].power.timeline;
      var series = [];
      if (tl.total_mw) series.push({ name: "total", ys: tl.total_mw });
      Object.keys(tl.rails || {}).forEach(function (k) { series.push({ name: k, ys: tl.rails[k] }); });
      lineChart(box, tl.t_s, series, {
        title: "Power during the timed window, " + labels[i], xlabel: "time since window start (s)", ylabel: "mW",
        xfmt: function (t) { return String(t); },
        tip: function (k) {
          return "t = " + fixed(tl.t_s[k], 2) + " s\n" + series.map(function (s) {
            return s.name + ": " + fixed(s.ys[k], 0) + " mW";
          }).join("\n");
        }
      });
    });
  }

  function compare() {
    makeTable(data.table, null).draw();
    var box = document.getElementById("chart-scatter");
    if (!box) return;
    var points = [];
    data.rows.forEach(function (r) {
      if (r.macs == null || r.latency_median_ms == null || r.macs <= 0 || r.latency_median_ms <= 0) return;
      var label = r.model + " / " + r.runtime + " b" + r.batch;
      points.push({ x: r.macs, y: r.latency_median_ms, pareto: !!r.pareto, label: label,
                    tip: label + "\nMACs " + si(r.macs) + ", median " + fixed(r.latency_median_ms, 3) + " ms" +
                         (r.pareto ? "\non the Pareto front" : "") });
    });
    scatterChart(box, points);
    var skipped = data.rows.length - points.length;
    if (skipped) box.appendChild(el("p", { class: "note" }, skipped + " row(s) not plotted: no MACs or no median latency."));
  }

  if (data.kind === "compare") compare(); else report();
  if (window.performance && performance.mark) performance.mark("zooprof-rendered");  /* read by bench/bench_html.py */
  document.documentElement.setAttribute("data-rendered", "1");
})();
