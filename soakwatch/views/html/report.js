// soakwatch HTML report: draws the charts described in #sw-data with uPlot, on one shared time axis.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("sw-data").textContent);
  var root = document.getElementById("charts");
  var plots = [];
  var syncing = false;

  function fmtTime(s) {
    if (s == null || !isFinite(s)) return "";
    var neg = s < 0 ? "-" : "";
    s = Math.abs(s);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (h) return neg + h + "h" + String(m).padStart(2, "0") + "m";
    if (m) return neg + m + "m" + String(Math.floor(sec)).padStart(2, "0") + "s";
    return neg + (Math.round(sec * 10) / 10) + "s";
  }

  function fmtVal(v) {
    if (v == null || !isFinite(v)) return "—";
    var a = Math.abs(v);
    if (a >= 1e6) return v.toExponential(3);
    if (a >= 100) return v.toFixed(0);
    if (a >= 1) return v.toFixed(2);
    return v.toPrecision(3);
  }

  function logRange(u, min, max) { return [min / 1.15, max * 1.15]; }

  function xPos(u, t) { return u.valToPos(t, "x", true); }

  function drawBands(u, bands) {
    var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
    ctx.save();
    for (var i = 0; i < bands.length; i++) {
      var b = bands[i], col = D.status_colors[b[2]];
      if (!col) continue;
      var x0 = Math.max(xPos(u, b[0]), u.bbox.left), x1 = Math.min(xPos(u, b[1]), u.bbox.left + u.bbox.width);
      if (x1 <= x0) continue;
      ctx.fillStyle = col;
      ctx.fillRect(x0, top, x1 - x0, h);
    }
    ctx.restore();
  }

  function drawMarkers(u) {
    var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height, left = u.bbox.left, right = left + u.bbox.width;
    ctx.save();
    for (var i = 0; i < D.markers.length; i++) {
      var m = D.markers[i], col = D.marker_colors[m.kind];
      var x0 = xPos(u, m.start);
      if (m.end != null) {
        var x1 = Math.min(xPos(u, m.end), right);
        x0 = Math.max(x0, left);
        if (x1 > x0) { ctx.fillStyle = col; ctx.fillRect(x0, top, x1 - x0, h); }
      } else if (x0 >= left && x0 <= right) {
        ctx.strokeStyle = col; ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
        ctx.beginPath(); ctx.moveTo(x0, top); ctx.lineTo(x0, top + h); ctx.stroke();
      }
    }
    ctx.restore();
  }

  function onScale(u, key) {
    if (key !== "x" || syncing) return;
    syncing = true;
    var min = u.scales.x.min, max = u.scales.x.max;
    for (var i = 0; i < plots.length; i++) {
      if (plots[i] !== u && !plots[i].swOwnX) plots[i].setScale("x", { min: min, max: max });
    }
    syncing = false;
  }

  function width() { return Math.max(320, Math.min(root.clientWidth, 1600) > 1180 ? (root.clientWidth - 20) / 2 : root.clientWidth); }

  function makeChart(ch) {
    var box = document.createElement("div");
    box.className = "chart";
    box.id = "chart-" + ch.id;
    var h = document.createElement("h3");
    h.textContent = ch.title;
    box.appendChild(h);
    if (ch.note) { var p = document.createElement("p"); p.className = "note"; p.textContent = ch.note; box.appendChild(p); }
    root.appendChild(box);
    var own = ch.x != null, fmtX = own ? fmtVal : fmtTime;
    var series = [{ label: own ? ch.x_label : D.x_label, value: function (u, v) { return fmtX(v); } }];
    var data = [own ? ch.x : D.x];
    for (var i = 0; i < ch.lines.length; i++) {
      var l = ch.lines[i];
      var s = { label: l.label, stroke: l.color, width: 1.5, spanGaps: true, value: function (u, v) { return fmtVal(v); } };
      if (l.dash) s.dash = [6, 4];
      if (l.fill) s.fill = l.fill;
      if (l.step) s.paths = uPlot.paths.stepped({ align: 1 });
      if (own) s.points = { show: true, size: 7 };
      series.push(s);
      data.push(D.series[l.key]);
    }
    var opts = {
      width: width(), height: 240,
      cursor: own ? { drag: { x: true, y: false } } : { sync: { key: "sw" }, drag: { x: true, y: false } },
      scales: ch.log ? { x: { time: false, distr: 3, range: logRange }, y: { distr: 3 } } : { x: { time: false } },
      axes: [
        { label: own ? ch.x_label : "", values: function (u, splits) { return splits.map(function (v) { return v == null ? "" : fmtX(v); }); } },
        { label: ch.unit, size: 60, values: function (u, splits) { return splits.map(function (v) { return v == null ? "" : fmtVal(v); }); } }
      ],
      series: series,
      hooks: own ? { draw: [markDrawn] } : {
        drawClear: [function (u) { drawBands(u, ch.bands); }],
        draw: [drawMarkers, markDrawn],
        setScale: [onScale]
      }
    };
    var plot = new uPlot(opts, data, box);
    plot.swOwnX = own;
    plots.push(plot);
  }

  function drew(plot) {
    // a chart drew when its canvas holds painted pixels (axes at least, lines when there is data)
    var c = plot.ctx.canvas, px = plot.ctx.getImageData(0, 0, c.width, c.height).data;
    for (var i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
    return false;
  }

  function markDrawn(u) {
    // uPlot draws after the constructor returns; each chart says so here, for people and tests alike
    if (u.root.parentNode.hasAttribute("data-drawn") || !drew(u)) return;
    u.root.parentNode.setAttribute("data-drawn", "1");
    var n = root.querySelectorAll(".chart[data-drawn]").length;
    document.body.setAttribute("data-drawn", String(n));
    // time from navigation start to the last chart drawn (bench/bench_html_report.py reads it)
    if (n === D.charts.length) document.body.setAttribute("data-load-ms", String(Math.round(performance.now())));
  }

  document.body.setAttribute("data-charts", String(D.charts.length));
  document.body.setAttribute("data-drawn", "0");
  D.charts.forEach(makeChart);
  window.addEventListener("resize", function () {
    for (var i = 0; i < plots.length; i++) plots[i].setSize({ width: width(), height: 240 });
  });
})();
