/*
 * Pilotis — séance mode: rotation, keyboard and clicker, full screen, progress, stale indicator.
 * Dash links every .js file of assets/ on every page: this one only acts on a `.pilotis-seance`
 * page (and on the « Présenter » button of dashboard pages). No dependency, no network.
 *
 * Keys (presentation clickers send PageDown / PageUp):
 *   → PageDown  next slide        ← PageUp  previous slide      Home / End  first / last
 *   Space       pause / resume    F         full screen          Esc         leave the séance
 * Each slide shows `data-duration` seconds; the progress bar has one segment per slide.
 * Data refreshes come from the server (a Dash callback on a dcc.Interval): when the heartbeat
 * stops changing for more than two periods, the indicator turns to « données non actualisées ».
 */
(function () {
  "use strict";

  var TICK_MS = 100;
  var IDLE_MS = 3000;
  var state = null;

  function root() {
    return document.querySelector(".pilotis-seance");
  }

  function parseSeconds(text) {
    var match = /^\s*(\d+)\s*(s|sec|min|m|h)?\s*$/.exec(text || "");
    if (!match) {
      return null;
    }
    var unit = { s: 1, sec: 1, min: 60, m: 60, h: 3600 }[match[2] || "s"];
    return Math.max(10, parseInt(match[1], 10) * unit);
  }

  function refreshSeconds(el) {
    var chosen = new URLSearchParams(window.location.search).get("rafraichissement");
    return parseSeconds(chosen) || parseFloat(el.getAttribute("data-refresh") || "300");
  }

  function setup(el) {
    var slides = Array.prototype.slice.call(el.querySelectorAll(".pilotis-seance-slide"));
    state = {
      root: el,
      slides: slides,
      segments: Array.prototype.slice.call(el.querySelectorAll(".pilotis-seance-fill")),
      index: 0,
      paused: false,
      start: performance.now(),
      elapsedAtPause: 0,
      beat: null,
      beatAt: Date.now(),
      lastMove: Date.now(),
      live: el.getAttribute("data-mode") === "live",
      refresh: refreshSeconds(el)
    };
    el.setAttribute("data-ready", "true");
    show(0, false);
  }

  function duration(index) {
    var value = parseFloat(state.slides[index].getAttribute("data-duration") || "30");
    return Math.max(1, value) * 1000;
  }

  function announce(text) {
    var region = state.root.querySelector(".pilotis-seance-announce");
    if (region) {
      region.textContent = text;
    }
  }

  function show(index, manual) {
    var count = state.slides.length;
    if (!count) {
      return;
    }
    state.index = ((index % count) + count) % count;
    for (var i = 0; i < count; i++) {
      state.slides[i].classList.toggle("is-current", i === state.index);
    }
    for (var j = 0; j < state.segments.length; j++) {
      state.segments[j].style.width = j < state.index ? "100%" : "0%";
    }
    state.start = performance.now();
    state.elapsedAtPause = 0;
    var counter = state.root.querySelector(".pilotis-seance-counter");
    if (counter) {
      counter.textContent = state.index + 1 + " / " + count;
    }
    state.root.setAttribute("data-slide", String(state.index));
    if (manual) {
      announce("Diapositive " + (state.index + 1) + " sur " + count + " : " +
        (state.slides[state.index].getAttribute("aria-label") || "").replace(/^\d+ sur \d+ : /, ""));
    }
  }

  function setPaused(paused) {
    if (paused === state.paused) {
      return;
    }
    if (paused) {
      state.elapsedAtPause = performance.now() - state.start;
    } else {
      state.start = performance.now() - state.elapsedAtPause;
    }
    state.paused = paused;
    state.root.classList.toggle("is-paused", paused);
    var badge = state.root.querySelector(".pilotis-seance-paused");
    if (badge) {
      badge.hidden = !paused;
    }
    var button = state.root.querySelector('[data-action="pause"]');
    if (button) {
      button.setAttribute("aria-pressed", paused ? "true" : "false");
      var label = paused ? "Reprendre la rotation (espace)" : "Mettre en pause (espace)";
      button.setAttribute("aria-label", label);
      button.setAttribute("title", label);
      var icon = button.querySelector(".bi");
      if (icon) {
        icon.className = paused ? "bi bi-play-fill" : "bi bi-pause-fill";
      }
    }
    announce(paused ? "Rotation en pause" : "Rotation reprise");
  }

  function fullscreen() {
    var doc = document;
    if (doc.fullscreenElement) {
      doc.exitFullscreen();
    } else if (doc.documentElement.requestFullscreen) {
      doc.documentElement.requestFullscreen().catch(function () { /* refused: stay windowed */ });
    }
  }

  function leave() {
    var target = state.root.getAttribute("data-exit");
    if (target) {
      window.location.assign(target);
    }
  }

  function act(action) {
    if (action === "next") {
      show(state.index + 1, true);
    } else if (action === "prev") {
      show(state.index - 1, true);
    } else if (action === "first") {
      show(0, true);
    } else if (action === "last") {
      show(state.slides.length - 1, true);
    } else if (action === "pause") {
      setPaused(!state.paused);
    } else if (action === "fullscreen") {
      fullscreen();
    } else if (action === "leave") {
      leave();
    }
  }

  var KEYS = {
    ArrowRight: "next", PageDown: "next", Right: "next",
    ArrowLeft: "prev", PageUp: "prev", Left: "prev",
    Home: "first", End: "last",
    " ": "pause", Spacebar: "pause",
    f: "fullscreen", F: "fullscreen",
    Escape: "leave", Esc: "leave"
  };

  function onKey(event) {
    if (!state || !root() || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) {
      return;
    }
    var action = KEYS[event.key];
    if (!action) {
      return;
    }
    if (action === "pause" && (tag === "BUTTON" || tag === "A")) {
      return; // Space activates the focused control itself
    }
    if (action === "leave" && document.fullscreenElement) {
      return; // the browser leaves full screen first
    }
    event.preventDefault();
    act(action);
  }

  function onClick(event) {
    var present = event.target.closest && event.target.closest("a.pilotis-present");
    if (present) {
      presentWithFilters(present);
      return;
    }
    if (!state) {
      return;
    }
    var button = event.target.closest && event.target.closest("[data-action]");
    if (button && state.root.contains(button)) {
      event.preventDefault();
      act(button.getAttribute("data-action"));
    }
  }

  /* « Présenter » on a dashboard page: carry the filters chosen on the page. */
  function presentWithFilters(link) {
    var id = link.getAttribute("data-dashboard");
    var params = new URLSearchParams();
    var territory = document.getElementById(id + "--territory");
    var period = document.getElementById(id + "--period");
    if (territory && territory.value) {
      params.set("territoire", territory.value);
    }
    if (period && period.value) {
      params.set("periode", period.value);
    }
    var query = params.toString();
    link.setAttribute("href", "/seance/d/" + encodeURIComponent(id) + (query ? "?" + query : ""));
  }

  function watchBeat() {
    if (!state.live) {
      return;
    }
    var beat = state.root.querySelector(".pilotis-seance-beat");
    var status = state.root.querySelector(".pilotis-seance-status");
    var value = beat ? beat.textContent : "";
    if (value && value !== state.beat) {
      state.beat = value;
      state.beatAt = Date.now();
      if (status) {
        status.classList.remove("is-late");
      }
      return;
    }
    var late = Date.now() - state.beatAt > (2 * state.refresh + 15) * 1000;
    if (late && status && !status.classList.contains("is-late")) {
      var since = state.beat ? new Date(state.beatAt) : null;
      status.classList.remove("is-fresh");
      status.classList.add("is-late");
      status.textContent = "Données non actualisées" + (since
        ? " depuis " + since.toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit", second: "2-digit" })
        : "");
    }
  }

  function tick() {
    var el = root();
    if (!el) {
      state = null;
      return;
    }
    if (!state || state.root !== el || el.getAttribute("data-ready") !== "true") {
      setup(el);
    }
    var count = state.slides.length;
    if (!count) {
      return;
    }
    var elapsed = state.paused ? state.elapsedAtPause : performance.now() - state.start;
    var total = duration(state.index);
    var fill = state.segments[state.index];
    if (fill) {
      fill.style.width = Math.min(100, (100 * elapsed) / total).toFixed(2) + "%";
    }
    if (!state.paused && elapsed >= total) {
      show(state.index + 1, false);
    }
    watchBeat();
    el.classList.toggle("is-idle", Date.now() - state.lastMove > IDLE_MS);
  }

  document.addEventListener("keydown", onKey);
  document.addEventListener("click", onClick);
  document.addEventListener("mousemove", function () {
    if (state) {
      state.lastMove = Date.now();
    }
  });
  window.setInterval(tick, TICK_MS);
})();
