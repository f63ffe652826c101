/*
 * Pilotis — accessibility patches for markup that Dash components render without names.
 * Dash links every .js file of assets/ on every page; this one has no dependency.
 *
 * - dash_table.DataTable (Dash 4.4.1) renders its pagination as icon-only <button>s and an
 *   unlabelled page <input> (axe: button-name, critical): give them French/English names.
 * - Its sort arrows are clickable <span>s, unreachable with the keyboard: make them buttons
 *   (role, tabindex, name, Enter/Space).
 * - dbc.NavLink marks the current page with the class `active` only: add aria-current="page".
 */
(function () {
  "use strict";
  var TEXTS = {
    fr: {
      "first-page": "Première page", "previous-page": "Page précédente",
      "next-page": "Page suivante", "last-page": "Dernière page",
      "current-page": "Numéro de page", sort: "Trier par la colonne"
    },
    en: {
      "first-page": "First page", "previous-page": "Previous page",
      "next-page": "Next page", "last-page": "Last page",
      "current-page": "Page number", sort: "Sort by column"
    }
  };

  function texts() {
    var lang = (document.documentElement.getAttribute("lang") || "fr").slice(0, 2);
    return TEXTS[lang] || TEXTS.fr;
  }

  function label(element, text) {
    if (element.getAttribute("aria-label") !== text) {
      element.setAttribute("aria-label", text);
    }
  }

  function patch() {
    var t = texts();
    var buttons = document.querySelectorAll(".dash-table-container .previous-next-container button");
    for (var i = 0; i < buttons.length; i++) {
      var name = buttons[i].className.split(" ").filter(function (c) { return t[c]; })[0];
      if (name) {
        label(buttons[i], t[name]);
      }
      if (buttons[i].getAttribute("type") !== "button") {
        buttons[i].setAttribute("type", "button");
      }
    }
    var inputs = document.querySelectorAll(".dash-table-container input.current-page");
    for (var j = 0; j < inputs.length; j++) {
      label(inputs[j], t["current-page"]);
    }
    var sorts = document.querySelectorAll(".dash-table-container .column-header--sort");
    for (var k = 0; k < sorts.length; k++) {
      if (sorts[k].getAttribute("role") !== "button") {
        sorts[k].setAttribute("role", "button");
        sorts[k].setAttribute("tabindex", "0");
      }
      var header = sorts[k].closest("th");
      var name = header && header.querySelector(".column-header-name");
      label(sorts[k], t.sort + (name ? " " + name.textContent.trim() : ""));
    }
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

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if ((event.key === "Enter" || event.key === " ") && target && target.classList &&
        target.classList.contains("column-header--sort")) {
      event.preventDefault();
      target.click();
    }
  });

  function start() {
    patch();
    new MutationObserver(schedule).observe(document.body, {
      childList: true, subtree: true, attributes: true, attributeFilter: ["class"]
    });
  }

  if (document.body) {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
