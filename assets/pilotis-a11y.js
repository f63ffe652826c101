/*
 * Pilotis — accessibility patches for markup that Dash components render without names.
 * Dash links every .js file of assets/ on every page; this one has no dependency.
 *
 * - dbc.NavLink marks the current page with the class `active` only: add aria-current="page".
 * - A plotly graph is one image for assistive technologies: its wrapper has role="img" and the
 *   figure's name (layouts/common.py accessible_graph); the SVG inside (ticks read as images,
 *   hover layers) is hidden from them. Its data stays available in « Voir les données ».
 * - After a dashboard is chosen in the menu (Dash changes the page without loading a new
 *   document), the focus moves to the page's h1 and the new page is announced in the polite
 *   live region #pilotis-announce: a screen reader user hears where they are, and Tab goes on
 *   from the top of the new content instead of from the menu link.
 */
(function () {
  "use strict";
  function patch() {
    var graphs = document.querySelectorAll(".pilotis-graph > [role='img'] > :not([aria-hidden])");
    for (var g = 0; g < graphs.length; g++) {
      graphs[g].setAttribute("aria-hidden", "true");
    }
    announce();
    var links = document.querySelectorAll(".pilotis-navbar .nav-link");
    for (var n = 0; n < links.length; n++) {
      var current = links[n].classList.contains("active");
      if (current && links[n].getAttribute("aria-current") !== "page") {
        links[n].setAttribute("aria-current", "page");
      } else if (!current && links[n].hasAttribute("aria-current")) {
        links[n].removeAttribute("aria-current");
      }
    }
  }

  var scheduled = false;
  function schedule() {
    if (!scheduled) {
      scheduled = true;
      window.requestAnimationFrame(function () {
        scheduled = false;
        patch();
      });
    }
  }

  var shownTitle = null;  // the page title last seen in #page-title (null: first page not drawn yet)

  function announce() {
    var holder = document.getElementById("page-title");
    var title = holder ? holder.textContent.trim() : "";
    if (!title || title === shownTitle) {
      return;
    }
    var first = shownTitle === null;
    shownTitle = title;
    if (first) {
      return;  // the document just loaded: the browser says its title, the focus stays put
    }
    var heading = document.querySelector("#page h1");
    if (heading) {
      if (!heading.hasAttribute("tabindex")) {
        heading.setAttribute("tabindex", "-1");
      }
      heading.focus({preventScroll: false});
    }
    var region = document.getElementById("pilotis-announce");
    if (region) {
      var template = region.getAttribute("data-template") || "{title}";
      region.textContent = template.replace("{title}", title);
    }
  }

  function start() {
    patch();
    new MutationObserver(schedule).observe(document.body, {
      childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ["class"]
    });
  }

  if (document.body) {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
