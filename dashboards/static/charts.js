// Draws every chart of a dashboard page from its JSON data block (no inline script: the
// Content-Security-Policy forbids them). Without JavaScript the captions and tables remain.
(function () {
  "use strict";
  var NARROW = 600;  // px of the chart's own width, below which it is laid out for a phone

  // Breaks a label into lines of about `width` characters (plotly draws <br> as a new line).
  function wrap(text, width) {
    var lines = [], line = "";
    String(text).split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > width) { lines.push(line); line = word; }
      else { line = line ? line + " " + word : word; }
    });
    lines.push(line);
    return lines.join("<br>");
  }

  // On a narrow screen: smaller text, margins that follow the axes' labels instead of fixed
  // ones, the legend below the chart starting at the left, long names on several lines, and
  // a taller flow chart with its labels wrapped so that they do not overlap.
  function fitToWidth(element, figure) {
    if (element.clientWidth >= NARROW) { return; }
    var layout = figure.layout;
    layout.font = Object.assign({}, layout.font, { size: 11 });
    layout.margin = { l: 8, r: 8, t: 10, b: 10 };
    layout.legend = Object.assign({}, layout.legend, { orientation: "h", x: 0, xanchor: "left", y: -0.2, yanchor: "top" });
    ["xaxis", "yaxis", "yaxis2"].forEach(function (name) {
      if (layout[name]) { layout[name].automargin = true; }
    });
    figure.data.forEach(function (trace) {
      if (trace.name) { trace.name = wrap(trace.name, 34); }
      if (trace.type === "sankey") {
        trace.node.label = trace.node.label.map(function (label) { return wrap(label, 16); });
        trace.node.pad = 22;
        trace.textfont = { size: 10 };
        layout.height = Math.max(layout.height || 0, 52 * trace.node.label.length);
      }
    });
  }

  function draw() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll(".plot[data-figure]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-figure"));
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      fitToWidth(element, figure);
      Plotly.newPlot(element, figure.data, figure.layout, {
        displaylogo: false, responsive: true, showSendToCloud: false, showLink: false,
        modeBarButtonsToRemove: ["sendDataToCloud"]
      }).then(function () { element.setAttribute("data-rendered", "true"); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
