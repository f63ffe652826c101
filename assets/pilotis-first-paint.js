/*
 * Pilotis — the first paint's swap (pilotis/web/first_paint.py, assets/pilotis-first-paint.css).
 *
 * The index page shows the page as static, inert HTML (.pilotis-first-paint) while React draws
 * the live page underneath, invisible. Once the live page has its content — the router's page,
 * every widget filled by its callback, every chart drawn or waiting to come into view
 * (assets/pilotis-lazy-charts.js) — the copy is removed and the live page
 * shown, at the same place: nothing moves. If that never happens (a widget that never answers),
 * the live page is shown anyway after MAX_WAIT ms, as it is.
 * No inline script (CSP): Dash links this file on every page; it does nothing without a copy.
 */
(function () {
  "use strict";
  var MAX_WAIT = 20000;

  function drawn(root) {
    var page = root.querySelector("#page");
    if (!page || !page.firstElementChild) {
      return false;
    }
    var bodies = root.querySelectorAll(".pilotis-widget-body");
    for (var b = 0; b < bodies.length; b++) {
      if (!bodies[b].firstElementChild) {
        return false;
      }
    }
    var graphs = root.querySelectorAll(".pilotis-graph");  // drawn, or waiting to come into view
    for (var g = 0; g < graphs.length; g++) {
      var waiting = graphs[g].classList.contains("pilotis-chart-waiting");
      if (!waiting && !graphs[g].querySelector(".main-svg, .pilotis-chart-waiting")) {
        return false;
      }
    }
    return true;
  }

  function start() {
    var copy = document.querySelector(".pilotis-first-paint");
    var root = document.getElementById("react-entry-point");
    if (!copy || !root) {
      return;
    }
    var observer = null;
    var timer = null;
    function swap() {
      if (observer) {
        observer.disconnect();
      }
      window.clearTimeout(timer);
      if (copy.parentNode) {
        copy.parentNode.removeChild(copy);
      }
      document.body.classList.remove("pilotis-ssr");
    }
    observer = new MutationObserver(function () {
      if (drawn(root)) {
        swap();
      }
    });
    observer.observe(root, {childList: true, subtree: true, attributes: true, attributeFilter: ["class"]});
    timer = window.setTimeout(swap, MAX_WAIT);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
