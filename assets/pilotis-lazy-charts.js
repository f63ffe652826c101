/*
 * Pilotis — charts are drawn when they come into view.
 *
 * Drawing is the dearest thing a dashboard asks of the browser: on /rsa the map alone took
 * ≈ 300 ms of the main thread, and every chart of the page was drawn in one go, out of sight
 * or not, while the reader could not scroll or type. dcc.Graph draws with the global
 * Plotly.react; this file wraps it (when plotly.js sets window.Plotly): a chart that has never
 * been drawn and is not within MARGIN of the screen gets its box reserved at the figure's
 * height (nothing moves when it is drawn) and is drawn when it comes near the screen
 * (IntersectionObserver). Redraws of a drawn chart are never delayed.
 *
 * Not on séance screens (body.pilotis-bare: seance.js scales the charts of every slide), and
 * every waiting chart is drawn before printing. A waiting chart has the class
 * pilotis-chart-waiting (assets/pilotis-first-paint.js counts it as done).
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

  var current = window.Plotly;
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
