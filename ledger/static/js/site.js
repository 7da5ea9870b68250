// Small enhancements for every page; each page works without them.
(function () {
  "use strict";
  // The menu folds behind one button on narrow screens (the CSS hides the list while
  // aria-expanded is false, and only below the width where the button shows).
  function menu() {
    var button = document.querySelector(".menu-toggle");
    if (!button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      button.setAttribute("aria-expanded", String(button.getAttribute("aria-expanded") !== "true"));
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }
  // A table wider than the screen scrolls inside itself (CSS); keyboard users must be able to
  // reach it to scroll it, so it (or a wide <pre>) becomes focusable exactly while it overflows.
  function scrollableTables() {
    document.querySelectorAll("main table, main pre").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.setAttribute("tabindex", "0");
      } else {
        table.removeAttribute("tabindex");
      }
    });
  }
  function start() {
    menu();
    scrollableTables();
    window.addEventListener("resize", scrollableTables);
    document.addEventListener("toggle", scrollableTables, true);  // tables inside <details>
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
