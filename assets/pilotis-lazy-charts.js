/*
 * Pilotis — plotly.js is loaded, and each chart drawn, when a chart comes into view.
 *
 * Drawing is the dearest thing a dashboard asks of the browser: on /rsa the map alone took
 * ≈ 300 ms of the main thread, every chart of the page was drawn in one go, out of sight or
 * not, and plotly.js itself (1.3 MB of JavaScript) was run on every page before anything else,
 * while the reader could not scroll or type.
 *
 * - plotly.js is no longer linked into every page (app.py: ``assets_ignore``). Until it is
 *   needed, window.Plotly is a promise-like stand-in: dcc.Graph waits for it
 *   (``Promise.resolve(window.Plotly || …)``, dash 4.4.1), and it loads the partial bundle
 *   named by <meta name="pilotis-plotly"> (pilotis/web/first_paint.py) once a chart's box
 *   (.pilotis-graph) comes within MARGIN of the screen. A phone that opens /rsa and reads the
 *   figures at its top never downloads nor runs it. Locales registered before it loads wait in
 *   window.PlotlyLocales (assets/pilotis-locale.js), as before.
 * - dcc.Graph draws with the global Plotly.react; it is wrapped when plotly.js sets
 *   window.Plotly: a chart never drawn and not near the screen gets its box reserved at the
 *   figure's height (nothing moves when it is drawn) and is drawn when it comes near
 *   (IntersectionObserver). Redraws of a drawn chart are never delayed.
 *
 * Séance screens (body.pilotis-bare: seance.js scales the charts of every slide) load plotly.js
 * at once and draw every chart. Before printing, waiting charts are drawn (when plotly.js is
 * already there). A waiting chart has the class pilotis-chart-waiting
 * (assets/pilotis-first-paint.js counts it as done).
 */
(function () {
  "use strict";
  var MARGIN = 200;  // px: a chart is drawn a little before it scrolls into view
  var WAITING = "pilotis-chart-waiting";
  var waiting = new Map();  // graph div -> {args: the latest Plotly.react arguments, done: [[resolve, reject]]}
  var observer = null;
  var realReact = null;

  function near(gd) {
    var box = gd.getBoundingClientRect();
    if (!box.width && !box.height) {
      return false;
    }
    var height = window.innerHeight || document.documentElement.clientHeight;
    var width = window.innerWidth || document.documentElement.clientWidth;
    return box.bottom >= -MARGIN && box.top <= height + MARGIN && box.right >= 0 && box.left <= width;
  }

  function draw(gd) {
    var entry = waiting.get(gd);
    if (!entry) {
      return;
    }
    waiting.delete(gd);
    if (observer) {
      observer.unobserve(gd);
    }
    var result;
    try {
      result = Promise.resolve(realReact.apply(window.Plotly, entry.args));
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(function (value) {
      gd.classList.remove(WAITING);
      gd.style.minHeight = "";
      entry.done.forEach(function (pair) { pair[0](value); });
    }, function (error) {
      gd.classList.remove(WAITING);
      entry.done.forEach(function (pair) { pair[1](error); });
    });
  }

  function watch(gd) {
    if (!observer) {
      observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting) {
            draw(entry.target);
          }
        });
      }, {rootMargin: MARGIN + "px 0px"});
    }
    observer.observe(gd);
  }

  function figureHeight(args) {
    var figure = args[1];
    var layout = args.length > 2 ? args[2] : figure && figure.layout;  // (gd, data, layout) or (gd, figure)
    return layout && typeof layout.height === "number" ? layout.height : 0;
  }

  function wrap(Plotly) {
    if (!Plotly || typeof Plotly.react !== "function" || Plotly.react.pilotisLazy) {
      return;
    }
    realReact = Plotly.react;
    var lazy = function (gd) {
      var later = gd && gd.nodeType === 1 && !gd._fullLayout && !document.body.classList.contains("pilotis-bare")
        && typeof IntersectionObserver === "function" && !near(gd);
      if (!later) {
        return realReact.apply(this, arguments);
      }
      var args = arguments;
      return new Promise(function (resolve, reject) {
        var entry = waiting.get(gd);
        if (entry) {
          entry.args = args;  // a newer figure for a chart still waiting: draw that one
          entry.done.push([resolve, reject]);
          return;
        }
        waiting.set(gd, {args: args, done: [[resolve, reject]]});
        var height = figureHeight(args);
        if (height) {
          gd.style.minHeight = height + "px";
        }
        gd.classList.add(WAITING);
        watch(gd);
      });
    };
    lazy.pilotisLazy = true;
    Plotly.react = lazy;
    var purge = Plotly.purge;
    if (typeof purge === "function") {
      Plotly.purge = function (gd) {
        var entry = waiting.get(gd);
        if (entry) {  // removed before it was ever drawn
          waiting.delete(gd);
          if (observer) {
            observer.unobserve(gd);
          }
          entry.done.forEach(function (pair) { pair[0](gd); });
        }
        return purge.apply(this, arguments);
      };
    }
  }

  window.addEventListener("beforeprint", function () {
    Array.from(waiting.keys()).forEach(draw);
  });

  function bare() {
    return document.body && document.body.classList.contains("pilotis-bare");
  }

  // The stand-in for window.Plotly until plotly.js is needed (see the top of this file).
  function standIn() {
    var waiters = [];
    var started = false;
    var boxes = new WeakSet();
    var watcher = null;
    var mutations = null;
    function load() {
      if (started) {
        return;
      }
      started = true;
      var marked = document.querySelectorAll(".pilotis-graph." + WAITING);
      for (var m = 0; m < marked.length; m++) {
        marked[m].classList.remove(WAITING);  // from now on each chart says so itself (Plotly.react)
      }
      if (watcher) {
        watcher.disconnect();
      }
      if (mutations) {
        mutations.disconnect();
      }
      var meta = document.querySelector("meta[name='pilotis-plotly']");
      var script = document.createElement("script");
      script.src = meta ? meta.getAttribute("content") : "/assets/vendor/plotly/plotly-pilotis.min.js";
      script.async = true;
      script.onload = function () {
        waiters.forEach(function (pair) { pair[0](window.Plotly); });
      };
      script.onerror = function (error) {
        waiters.forEach(function (pair) { pair[1](error); });
      };
      document.head.appendChild(script);
    }
    function scan() {
      if (started) {
        return;
      }
      var found = document.querySelectorAll(".pilotis-graph");
      for (var i = 0; i < found.length; i++) {
        if (boxes.has(found[i])) {
          continue;
        }
        if (near(found[i])) {
          load();
          return;
        }
        boxes.add(found[i]);
        found[i].classList.add(WAITING);
        watcher.observe(found[i]);
      }
    }
    function wait() {
      if (started || watcher) {
        return;
      }
      if (bare() || typeof IntersectionObserver !== "function" || typeof MutationObserver !== "function") {
        load();
        return;
      }
      watcher = new IntersectionObserver(function (entries) {
        if (entries.some(function (entry) { return entry.isIntersecting; })) {
          load();
        }
      }, {rootMargin: MARGIN + "px 0px"});
      mutations = new MutationObserver(scan);  // boxes drawn later, other pages of the session
      mutations.observe(document.body, {childList: true, subtree: true});
      scan();
    }
    return {
      then: function (resolve, reject) {
        waiters.push([resolve, reject]);
        wait();
      },
      register: function (module) {  // vendor/plotly-locale-fr.js: Plotly.register(locale)
        (window.PlotlyLocales = window.PlotlyLocales || []).push(module);
      }
    };
  }

  var current = window.Plotly || standIn();
  wrap(current);
  try {
    Object.defineProperty(window, "Plotly", {
      configurable: true,
      enumerable: true,
      get: function () { return current; },
      set: function (value) { current = value; wrap(value); }
    });
  } catch (error) {
    // window.Plotly cannot be watched: charts are drawn at once, as before
  }
})();
