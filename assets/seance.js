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
 *
 * Fit step (after the slides are built, on every resize and every refreshed content): the CSS
 * scales everything with the screen (assets/seance.css, `--u`); what still does not fit is
 * measured here, on every slide: a KPI value wider than its card gets a smaller size (still on
 * one line, never broken inside a word), and a card whose lines overflow hides its last lines
 * and says so at its end (« 2 éléments masqués : voir la fiche »). Nothing is clipped silently.
 */
(function () {
  "use strict";

  var TICK_MS = 100;
  var IDLE_MS = 3000;
  var state = null;

  function root() {
    return document.querySelector(".pilotis-seance");
  }

  // Every text said or written here comes from the page, in its language: the server renders
  // them on the séance's root as data-text-* (pilotis/ui/seance_text.py), {placeholders} kept.
  function text(name, values) {
    var el = root();
    var template = (el && el.getAttribute("data-text-" + name)) || "";
    return template.replace(/\{(\w+)\}/g, function (match, key) {
      return values && values[key] !== undefined ? values[key] : match;
    });
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
    watchContent(el);
    scheduleFit();
    if (document.fonts && document.fonts.ready) {
      document.fonts.ready.then(scheduleFit);
    }
  }

  /* ---------------------------------------------------------------- fit step */
  var LINES = "li, p, tr, .alert, .pilotis-notice, .pilotis-sparkline, h4, h5, h6, dt, dd, pre, blockquote, img";
  var KPI_MIN_RATIO = 0.45;
  var fitObserver = null;
  var fitPending = false;

  function overflows(el) {
    return el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1;
  }

  function resetFit(slide) {
    var hidden = slide.querySelectorAll("[data-fit-hidden]");
    for (var i = 0; i < hidden.length; i++) {
      hidden[i].removeAttribute("data-fit-hidden");
    }
    var notes = slide.querySelectorAll(".pilotis-seance-more");
    for (var j = 0; j < notes.length; j++) {
      notes[j].parentNode.removeChild(notes[j]);
    }
    var values = slide.querySelectorAll(".pilotis-kpi-value[data-fit-size]");
    for (var k = 0; k < values.length; k++) {
      values[k].removeAttribute("data-fit-size");
      values[k].style.removeProperty("--fit-size");
    }
  }

  /* A KPI value wider than its card: the largest size that fits, on one line. */
  function fitValue(value) {
    if (value.scrollWidth <= value.clientWidth + 1) {
      return;
    }
    var size = parseFloat(getComputedStyle(value).fontSize);
    var floor = size * KPI_MIN_RATIO;
    var next = Math.max(floor, Math.floor(size * value.clientWidth / value.scrollWidth * 0.98));
    for (var step = 0; step < 6; step++) {
      value.setAttribute("data-fit-size", "");
      value.style.setProperty("--fit-size", next + "px");
      if (value.scrollWidth <= value.clientWidth + 1 || next <= floor) {
        return;
      }
      next = Math.max(floor, Math.floor(next * 0.92));
    }
  }

  /* Lines of a card that may be hidden, last first: the innermost ones, never the KPI value. */
  function hideableLines(body) {
    var found = Array.prototype.slice.call(body.querySelectorAll(LINES));
    return found.filter(function (el) {
      if (el.closest("thead") || el.classList.contains("pilotis-kpi-value") || el.querySelector(".pilotis-kpi-value")) {
        return false;
      }
      return !el.querySelector(LINES);
    });
  }

  function fitBody(body) {
    if (!overflows(body)) {
      return;
    }
    var lines = hideableLines(body);
    if (!lines.length) {
      return;
    }
    var kpi = body.querySelector(".pilotis-kpi-value");
    var note = document.createElement("p");
    note.className = "pilotis-seance-more";
    body.appendChild(note);
    var count = 0;
    while (overflows(body) && lines.length) {
      lines.pop().setAttribute("data-fit-hidden", "");
      count += 1;
      note.textContent = text(count > 1 ? "hidden-many" : "hidden-one", {count: count}) +
        text(kpi ? "see-card" : "see-dashboard");
    }
    if (!count) {
      body.removeChild(note);
    }
  }

  function fitSlides() {
    fitPending = false;
    var el = root();
    if (!el) {
      return;
    }
    var slides = el.querySelectorAll(".pilotis-seance-slide");
    for (var i = 0; i < slides.length; i++) {
      resetFit(slides[i]);
      var values = slides[i].querySelectorAll(".pilotis-kpi-value");
      for (var v = 0; v < values.length; v++) {
        fitValue(values[v]);
      }
      var bodies = slides[i].querySelectorAll(".pilotis-seance-body");
      for (var b = 0; b < bodies.length; b++) {
        fitBody(bodies[b]);
      }
    }
    el.setAttribute("data-fit", window.innerWidth + "x" + window.innerHeight);
    if (fitObserver) {
      fitObserver.takeRecords(); // our own changes are not new content
    }
  }

  function scheduleFit() {
    if (!fitPending) {
      fitPending = true;
      window.requestAnimationFrame(fitSlides);
    }
  }

  /* Refit when the server sends new content (not when plotly redraws a figure). */
  function watchContent(el) {
    if (fitObserver) {
      fitObserver.disconnect();
    }
    if (!window.MutationObserver) {
      return;
    }
    fitObserver = new MutationObserver(function (records) {
      for (var i = 0; i < records.length; i++) {
        var target = records[i].target;
        var node = target.nodeType === 1 ? target : target.parentElement;
        if (node && !node.closest(".pilotis-seance-figure")) {
          scheduleFit();
          return;
        }
      }
    });
    fitObserver.observe(el, { childList: true, subtree: true, characterData: true });
  }

  /* Figures are drawn for 1920×1080 (28 px fonts, pilotis/ui/seance_render.py): their fonts follow
     the screen's scale like the rest of the slide. Each figure sent by the server is rescaled
     once (a WeakMap remembers the scale applied to that layout object). */
  var scaledLayouts = new WeakMap();

  function screenScale() {
    return Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
  }

  function scaledFont(font, ratio, into, key) {
    if (font && typeof font.size === "number") {
      into[key + ".size"] = Math.round(font.size * ratio * 10) / 10;
    }
  }

  function scaleFigures(el) {
    if (!window.Plotly || !window.Plotly.update) {
      return;
    }
    var scale = screenScale();
    var graphs = el.querySelectorAll(".pilotis-seance-figure .js-plotly-plot");
    for (var i = 0; i < graphs.length; i++) {
      var gd = graphs[i];
      var layout = gd.layout;
      if (!layout || !gd._fullLayout) {
        continue;
      }
      var fresh = !scaledLayouts.has(layout);
      var applied = fresh ? 1 : scaledLayouts.get(layout);
      if (!fresh && Math.abs(applied - scale) < 0.01) {
        continue;
      }
      var ratio = scale / applied;
      var relayout = {};
      scaledFont(layout.font, ratio, relayout, "font");
      scaledFont(layout.legend && layout.legend.font, ratio, relayout, "legend.font");
      scaledFont(layout.hoverlabel && layout.hoverlabel.font, ratio, relayout, "hoverlabel.font");
      Object.keys(layout).forEach(function (key) {
        var axis = layout[key];
        if (/^[xy]axis\d*$/.test(key) && axis) {
          scaledFont(axis.tickfont, ratio, relayout, key + ".tickfont");
          scaledFont(axis.title && axis.title.font, ratio, relayout, key + ".title.font");
        }
      });
      var restyle = {};
      var traces = [];
      (gd.data || []).forEach(function (trace, index) {
        var one = {};
        scaledFont(trace.textfont, ratio, one, "textfont");
        scaledFont(trace.insidetextfont, ratio, one, "insidetextfont");
        scaledFont(trace.outsidetextfont, ratio, one, "outsidetextfont");
        if (fresh && trace.type === "pie") {
          // labels beside the slices, black on white (21:1): white on a light slice is not 7:1
          one.textposition = "outside";
          one["outsidetextfont.color"] = "#000000";
        }
        if (trace.colorbar) {
          scaledFont(trace.colorbar.tickfont, ratio, one, "colorbar.tickfont");
          if (typeof trace.colorbar.thickness === "number") {
            one["colorbar.thickness"] = Math.round(trace.colorbar.thickness * ratio);
          }
        }
        Object.keys(one).forEach(function (key) {
          if (!restyle[key]) {
            restyle[key] = (gd.data || []).map(function () { return undefined; });
          }
          restyle[key][index] = one[key];
        });
        traces.push(index);
      });
      scaledLayouts.set(layout, scale);
      window.Plotly.update(gd, restyle, relayout, traces);
    }
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
      announce(text("slide", {number: state.index + 1, total: count,
        title: state.slides[state.index].getAttribute("data-title") || ""}));
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
      var label = text(paused ? "resume" : "pause");
      button.setAttribute("aria-label", label);
      button.setAttribute("title", label);
      var icon = button.querySelector(".bi");
      if (icon) {
        icon.className = paused ? "bi bi-play-fill" : "bi bi-pause-fill";
      }
    }
    announce(text(paused ? "paused" : "resumed"));
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
      status.textContent = since
        ? text("late-since", {time: since.toLocaleTimeString(document.documentElement.lang === "en" ? "en-GB" : "fr-FR",
          { hour: "2-digit", minute: "2-digit", second: "2-digit" })})
        : text("late");
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
    scaleFigures(el);
    el.classList.toggle("is-idle", Date.now() - state.lastMove > IDLE_MS);
  }

  document.addEventListener("keydown", onKey);
  document.addEventListener("click", onClick);
  document.addEventListener("mousemove", function () {
    if (state) {
      state.lastMove = Date.now();
    }
  });
  window.addEventListener("resize", function () {
    if (state) {
      scheduleFit();
    }
  });
  window.setInterval(tick, TICK_MS);
})();
