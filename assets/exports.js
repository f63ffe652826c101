/* « Télécharger » under a widget (pilotis/ui/downloads.py) and « Signaler une anomalie »
   (pilotis/ui/report_link.py): the export and report links carry the filters
   chosen on the page. Each link names the ids of the page's territory and year selects and of
   the widget's own controls (data-territory, data-period, data-controls); its address is
   rewritten from their current values just before it is followed, copied or hovered. */
(function () {
  "use strict";

  function value(id) {
    var el = id ? document.getElementById(id) : null;
    return el && el.value ? el.value : "";
  }

  function refresh(link) {
    var params = new URLSearchParams();
    var variant = link.getAttribute("data-variant");
    if (variant) {
      params.set("variante", variant);
    }
    var territory = value(link.getAttribute("data-territory"));
    if (territory) {
      params.set("territoire", territory);
    }
    var period = value(link.getAttribute("data-period"));
    if (period) {
      params.set("annee", period);
    }
    var controls = {};
    try {
      controls = JSON.parse(link.getAttribute("data-controls") || "{}");
    } catch (error) {
      controls = {};
    }
    Object.keys(controls).forEach(function (name) {
      var chosen = value(controls[name]);
      if (chosen) {
        params.set(name, chosen);
      }
    });
    var query = params.toString();
    var base = link.getAttribute("data-base");
    var joint = base.indexOf("?") >= 0 ? "&" : "?"; // the anomaly form's base names its widget already
    link.setAttribute("href", base + (query ? joint + query : ""));
  }

  function onEvent(event) {
    var link = event.target && event.target.closest && event.target.closest("a.pilotis-export, a.pilotis-report");
    if (link) {
      refresh(link);
    }
  }

  // click (mouse, Enter), focus (keyboard, before a copy of the address), pointer over (status bar)
  document.addEventListener("click", onEvent, true);
  document.addEventListener("focusin", onEvent);
  document.addEventListener("mouseover", onEvent);
  document.addEventListener("contextmenu", onEvent, true);
})();
