// Draws every chart of a dashboard page from its JSON data block (no inline script: the
// Content-Security-Policy forbids them). Without JavaScript the captions and tables remain.
(function () {
  "use strict";
  function draw() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll(".plot[data-figure]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-figure"));
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
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
