/*
 * Pilotis — « alertes en cours » band on the dashboards, updated without reloading the page.
 * Asks /alertes/en-cours.json (the alerts this user may see, the text in the page language)
 * every `refresh` seconds; shows nothing when there is none, on séance pages, or signed out.
 * The band is a labelled region holding a link to /alertes (reachable with Tab); its text is a
 * polite live region, so a screen reader hears when the number of alerts changes. The level is
 * written with its icon and its word, never shown by a colour alone.
 */
(function () {
  "use strict";
  if (window.location.pathname.indexOf("/seance") === 0) {
    return;
  }
  var band = null;
  function build(answer) {
    band = document.createElement("aside");
    band.id = "pilotis-alert-band";
    band.className = "pilotis-alert-band";
    band.setAttribute("aria-label", answer.link);
    var text = document.createElement("span");
    text.className = "pilotis-alert-band-text";
    text.setAttribute("role", "status");
    text.setAttribute("aria-live", "polite");
    var link = document.createElement("a");
    link.href = "/alertes";
    link.className = "pilotis-alert-band-link";
    band.appendChild(text);
    band.appendChild(document.createTextNode(" "));
    band.appendChild(link);
    document.body.insertBefore(band, document.body.firstChild);
  }
  function show(answer) {
    if (!answer.count) {
      if (band) {
        band.hidden = true;
      }
      return;
    }
    if (!band) {
      build(answer);
    }
    band.hidden = false;
    band.setAttribute("data-level", answer.level || "");
    var text = band.querySelector(".pilotis-alert-band-text");
    if (text.textContent !== answer.text) {
      text.textContent = answer.text;
    }
    band.querySelector(".pilotis-alert-band-link").textContent = answer.link;
  }
  function ask() {
    fetch("/alertes/en-cours.json", { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        if (answer) {
          show(answer);
          window.setTimeout(ask, Math.max(2, answer.refresh || 60) * 1000);
        }
      })
      .catch(function () {
        window.setTimeout(ask, 60000);
      });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ask);
  } else {
    ask();
  }
})();
