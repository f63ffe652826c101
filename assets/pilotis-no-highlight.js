/*
 * Pilotis — no syntax highlighter.
 *
 * dcc.Markdown downloads highlight.js (a 38 kB compressed chunk, async-highlight.js) on every
 * page that shows a Markdown block, whether or not it contains code: its loader resolves
 * `window.hljs` first and fetches the chunk only when that is absent. Our Markdown widgets
 * are prose (titles, lists, links; layouts/text.py) and never show code, so this stand-in
 * answers instead: a ``` block is shown as plain monospace text, and nothing is downloaded.
 * Remove this file if a widget ever needs highlighted code.
 */
(function () {
  "use strict";
  if (!window.hljs) {
    window.hljs = {
      highlightElement: function () { /* no highlighting: plain <pre><code> */ },
      highlightBlock: function () { /* older name of the same call */ }
    };
  }
})();
