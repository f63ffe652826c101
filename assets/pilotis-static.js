/*
 * Pilotis — static blocks (pilotis/ui/static_html.py).
 *
 * Parts of a page that no callback reads or writes (the « Télécharger » menus, source lines,
 * tables' captions, sort buttons and pagers…) are sent as one Dash component,
 * <div class="pilotis-static" data-html="…">, instead of one component per tag: dash-renderer's
 * work at every update grows with its number of components. This file writes that markup (built
 * and escaped on the server) inside the div as plain DOM, at once when React inserts the div and
 * again when a callback answer changes its data-html. The markup holds no script and no style
 * attribute (CSP). It runs before the other assets' observers see the new nodes (tables, charts):
 * MutationObserver callbacks run in the order they were registered, and this file is linked first.
 */
(function () {
  "use strict";

  var SELECTOR = ".pilotis-static[data-html]";
  var built = new WeakMap();  // block -> the data-html string its content was written from

  function fill(block) {
    var markup = block.getAttribute("data-html");
    if (markup === null || built.get(block) === markup) {
      return;
    }
    built.set(block, markup);
    block.innerHTML = markup;
  }

  function fillAll(root) {
    if (root.nodeType !== 1) {
      return;
    }
    if (root.matches(SELECTOR)) {
      fill(root);
    }
    var blocks = root.querySelectorAll(SELECTOR);
    for (var i = 0; i < blocks.length; i++) {
      fill(blocks[i]);
    }
  }

  new MutationObserver(function (records) {
    for (var r = 0; r < records.length; r++) {
      var record = records[r];
      if (record.type === "attributes") {
        fillAll(record.target);
      } else {
        for (var n = 0; n < record.addedNodes.length; n++) {
          fillAll(record.addedNodes[n]);
        }
      }
    }
  }).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["data-html"]
  });
  fillAll(document.documentElement);
})();
