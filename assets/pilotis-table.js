/*
 * Pilotis — sorting and paging of the accessible data tables (layouts/html_table.py).
 *
 * The server sends the caption, header and pager as static HTML (assets/pilotis-static.js) and every row as JSON in the
 * box's `data-rows` ([[text, sort key(, title of a masked cell)], …] per row: raw number, ISO date, or the name folded for
 * French collation); this file writes them into the table's empty <tbody> as plain DOM (cheaper
 * than one React component per cell), those beyond the first page `hidden`, each cell with its
 * sort key in `data-sort`. A new callback answer (new `data-rows`) rebuilds the rows.
 * Nothing here touches the Tab key: buttons are real <button>s in the page's tab order.
 * Pager buttons at an end are `aria-disabled` rather than `disabled`, so that the focus stays
 * on the button just pressed (a disabled button drops the focus to the body).
 * The new state is said in the table's polite live region (« Trié par Commune, ordre
 * croissant. Page 1 sur 5 »); the header cell carries `aria-sort`.
 */
(function () {
  "use strict";

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (match, key) {
      return values[key] !== undefined ? values[key] : match;
    });
  }

  var built = new WeakMap();  // <tbody> -> the data-rows string it was built from

  function build(box) {
    var data = box.getAttribute("data-rows");
    var body = box.querySelector("table.pilotis-data-table tbody");
    if (!body || data === null || built.get(body) === data) {
      return;
    }
    built.set(body, data);
    var heads = box.querySelectorAll("table.pilotis-data-table thead th");
    var numeric = Array.prototype.map.call(heads, function (th) {
      return th.getAttribute("data-type") === "num";
    });
    var header = parseInt(box.getAttribute("data-row-header"), 10) || 0;
    var size = parseInt(box.getAttribute("data-page-size"), 10) || 10;
    var fragment = document.createDocumentFragment();
    JSON.parse(data).forEach(function (cells, number) {
      var row = document.createElement("tr");
      row.hidden = number >= size;
      cells.forEach(function (cell, index) {
        var element = document.createElement(index === header ? "th" : "td");
        if (index === header) {
          element.setAttribute("scope", "row");
        }
        if (numeric[index]) {
          element.className = "text-end";
        }
        element.setAttribute("data-sort", cell[1]);
        if (cell[2]) {  // a masked cell (statistical secrecy): « < 5 » explained by its title
          var abbr = document.createElement("abbr");
          abbr.setAttribute("title", cell[2]);
          abbr.textContent = cell[0];
          element.appendChild(abbr);
        } else {
          element.textContent = cell[0];
        }
        row.appendChild(element);
      });
      fragment.appendChild(row);
    });
    body.replaceChildren(fragment);
    // The order the rows arrive in (the server's data-sorted), whatever was sorted before.
    Array.prototype.forEach.call(heads, function (th) {
      var state = th.getAttribute("data-sorted");
      if (state) {
        th.setAttribute("aria-sort", state);
      } else {
        th.removeAttribute("aria-sort");
      }
    });
    show(box, 1, "");
  }

  function buildAll(root) {
    if (root.matches && root.matches(".pilotis-table")) {
      build(root);
    }
    if (root.querySelectorAll) {
      root.querySelectorAll(".pilotis-table").forEach(build);
    }
  }

  function rows(box) {
    var body = box.querySelector("table.pilotis-data-table tbody");
    return body ? Array.prototype.slice.call(body.rows) : [];
  }

  function pageCount(box) {
    var size = parseInt(box.getAttribute("data-page-size"), 10) || 10;
    return Math.max(1, Math.ceil(rows(box).length / size));
  }

  function currentPage(box) {
    return parseInt(box.getAttribute("data-page"), 10) || 1;
  }

  function show(box, page, prefix) {
    var size = parseInt(box.getAttribute("data-page-size"), 10) || 10;
    var pages = pageCount(box);
    page = Math.min(Math.max(1, page), pages);
    box.setAttribute("data-page", String(page));
    rows(box).forEach(function (row, index) {
      var visible = index >= (page - 1) * size && index < page * size;
      if (row.hidden === visible) {
        row.hidden = !visible;
      }
    });
    var buttons = box.querySelectorAll(".pilotis-pager button[data-action]");
    for (var i = 0; i < buttons.length; i++) {
      var action = buttons[i].getAttribute("data-action");
      var off = (action === "first" || action === "previous") ? page === 1 : page === pages;
      if (off) {
        buttons[i].setAttribute("aria-disabled", "true");
      } else {
        buttons[i].removeAttribute("aria-disabled");
      }
    }
    var status = box.querySelector(".pilotis-table-status");
    if (status) {
      var text = pages > 1 ? fill(box.getAttribute("data-text-page"), {page: page, pages: pages}) : "";
      status.textContent = prefix ? (prefix + " " + text).trim() : text;
    }
  }

  function sort(box, header) {
    var cells = header.parentNode.cells;
    var column = Array.prototype.indexOf.call(cells, header);
    var numeric = header.getAttribute("data-type") === "num";
    var descending = header.getAttribute("aria-sort") === "ascending";
    var sorted = rows(box).map(function (row, index) {
      var cell = row.cells[column];
      return {row: row, key: cell ? cell.getAttribute("data-sort") || "" : "", index: index};
    });
    sorted.sort(function (a, b) {
      var result;
      if (numeric) {
        var x = a.key === "" ? NaN : parseFloat(a.key);
        var y = b.key === "" ? NaN : parseFloat(b.key);
        if (isNaN(x) || isNaN(y)) {  // missing values last, whatever the direction
          return isNaN(x) === isNaN(y) ? a.index - b.index : (isNaN(x) ? 1 : -1);
        }
        result = x - y;
      } else {
        result = a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
      }
      return (descending ? -result : result) || a.index - b.index;
    });
    var body = box.querySelector("table.pilotis-data-table tbody");
    sorted.forEach(function (item) { body.appendChild(item.row); });
    for (var i = 0; i < cells.length; i++) {
      if (cells[i] !== header) {
        cells[i].removeAttribute("aria-sort");
      }
    }
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var name = header.querySelector("button");
    var label = name ? name.cloneNode(true) : null;
    if (label) {
      label.querySelectorAll(".visually-hidden").forEach(function (s) { s.remove(); });
    }
    var said = fill(box.getAttribute(descending ? "data-text-descending" : "data-text-ascending"),
      {column: label ? label.textContent.trim() : ""});
    show(box, 1, said);
  }

  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest &&
      event.target.closest(".pilotis-table button[data-action]");
    if (!button) {
      return;
    }
    var box = button.closest(".pilotis-table");
    build(box);
    var action = button.getAttribute("data-action");
    if (action === "sort") {
      sort(box, button.closest("th"));
      return;
    }
    if (button.getAttribute("aria-disabled") === "true") {
      return;
    }
    var page = currentPage(box);
    var target = {first: 1, previous: page - 1, next: page + 1, last: pageCount(box)}[action];
    show(box, target, "");
  });

  // Tables arrive in callback answers: build each one as soon as React has put it in the page
  // (before the browser paints), and again when an answer brings new rows.
  new MutationObserver(function (records) {
    records.forEach(function (record) {
      if (record.type === "attributes") {
        build(record.target);
        return;
      }
      record.addedNodes.forEach(function (node) {
        if (node.nodeType === 1 && node.namespaceURI === "http://www.w3.org/1999/xhtml") {
          buildAll(node);
          // a box's content rewritten (assets/pilotis-static.js): its new, empty <tbody>
          var box = node.parentElement && node.parentElement.closest(".pilotis-table");
          if (box) {
            build(box);
          }
        }
      });
    });
  }).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["data-rows"],
  });
  buildAll(document);
})();
