/*
 * Pilotis — « alertes en cours » band on the dashboards, updated without reloading the page.
 * Asks /alertes/en-cours.json (the alerts this user may see, the text in the page language)
 * every `refresh` seconds; shows nothing when there is none, or signed out.
 * The band is a labelled region holding a link to /alertes (reachable with Tab); its text is a
 * polite live region, so a screen reader hears when the number of alerts changes. The level is
 * written with its icon and its word, never shown by a colour alone.
 * On séance pages too: a wall screen (display link) gets the alerts of the dashboards its séance
 * shows and no link (it opens nothing else): the band itself is then reached with Tab.
 */
(function () {
  "use strict";
  var band = null;
  function build(answer) {
    band = document.createElement("aside");
    band.id = "pilotis-alert-band";
    band.className = "pilotis-alert-band";
    band.setAttribute("aria-label", answer.label || answer.link);
    var text = document.createElement("span");
    text.className = "pilotis-alert-band-text";
    text.setAttribute("role", "status");
    text.setAttribute("aria-live", "polite");
    band.appendChild(text);
    if (answer.link) {
      var link = document.createElement("a");
      link.href = "/alertes";
      link.className = "pilotis-alert-band-link";
      band.appendChild(document.createTextNode(" "));
      band.appendChild(link);
    } else {
      band.tabIndex = 0;
    }
    if (window.location.pathname.indexOf("/seance") === 0) {
      band.classList.add("pilotis-alert-band-seance");
    }
    document.body.insertBefore(band, document.body.firstChild);
  }
  function room(shown) {
    // On a séance page the full-screen frame moves down by the band's height (nothing hidden).
    if (!band || !band.classList.contains("pilotis-alert-band-seance")) {
      return;
    }
    document.body.classList.toggle("pilotis-has-alert-band", shown);
    var height = shown ? band.offsetHeight + "px" : "0px";
    document.documentElement.style.setProperty("--pilotis-alert-band-h", height);
  }
  function show(answer) {
    if (!answer.count) {
      if (band) {
        band.hidden = true;
        room(false);
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
    var link = band.querySelector(".pilotis-alert-band-link");
    if (link) {
      link.textContent = answer.link;
    }
    room(true);
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
