/*
 * Pilotis — French dates on plotly axes.
 *
 * The vendored plotly locale (assets/vendor/plotly-locale-fr.js, copied byte-for-byte from
 * plotly.js) abbreviates months « Jan, Fév, Mar, Jun, Jul » and capitalises them: French
 * abbreviations are « janv., févr., mars, avr., mai, juin, juil., août, sept., oct., nov.,
 * déc. » in lower case. This file replaces the locale's date format, whichever way plotly is
 * loaded:
 * - lazily (Dash's async graph chunk): locales wait in window.PlotlyLocales until plotly reads
 *   them; this file runs first (Dash links assets/ before assets/vendor/) and corrects the
 *   French entry when it is pushed;
 * - eagerly (plotly already defined): registered again once the page's scripts have run.
 * Thousands are separated by a narrow no-break space (U+202F); the figures' own `separators`
 * (layouts/common.py figure_layout) say the same.
 */
(function () {
  "use strict";
  var FORMAT = {
    days: ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
    shortDays: ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
    months: ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
      "octobre", "novembre", "décembre"],
    shortMonths: ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
      "nov.", "déc."],
    date: "%d/%m/%Y",
    decimal: ",",
    thousands: "\u202f",
    year: "%Y",
    month: "%b %Y",
    dayMonth: "%-d %b",
    dayMonthYear: "%-d %b %Y"
  };

  function fix(locale) {
    if (locale && locale.moduleType === "locale" && locale.name === "fr") {
      locale.format = FORMAT;
    }
    return locale;
  }

  var waiting = window.PlotlyLocales = window.PlotlyLocales || [];
  waiting.forEach(fix);
  var push = waiting.push;
  waiting.push = function () {
    for (var i = 0; i < arguments.length; i++) {
      fix(arguments[i]);
    }
    return push.apply(this, arguments);
  };

  function registerAgain() {
    if (window.Plotly && typeof window.Plotly.register === "function") {
      window.Plotly.register({moduleType: "locale", name: "fr", format: FORMAT});
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", registerAgain);
  } else {
    registerAgain();
  }
})();
