// cascade status site: the sortable, filterable feedstock table of a migration page.
//
// The rows come from the page itself (<script type="application/json" id="feedstock-data">),
// so the page works from file:// with no fetch. Every value is inserted with textContent or
// as an attribute, never as HTML, so names and messages stay inert whatever they contain.
(function () {
  "use strict";

  var dataNode = document.getElementById("feedstock-data");
  var table = document.getElementById("feedstocks");
  if (!dataNode || !table) {
    return;
  }
  var data = JSON.parse(dataNode.textContent);
  var strings = data.strings;
  var order = data.state_order;
  var body = table.tBodies[0];
  var filterInput = document.getElementById("filter");
  var stateSelect = document.getElementById("state-filter");
  var shown = document.getElementById("shown");
  var moreButton = document.getElementById("show-more");
  var PAGE = 1000;

  // Row layout (see src/status/site/table.rs): name, state (index into strings; its
  // conda-forge state is data.cf[state]), reason code (index), detail, PR number (0:
  // none), PR url (0: none, 1: the usual shape under data.pr_base, else the URL), CI
  // (index; 0: none), descendants, level, and the file stem when it differs from the name.
  var rows = data.rows.map(function (r) {
    var name = r[0];
    var url = r[5] === 0 ? "" :
      r[5] === 1 ? data.pr_base + name + "-feedstock/pull/" + r[4] : r[5];
    return {
      name: name,
      stem: r.length > 9 ? r[9] : name,
      state: data.cf[r[1]],
      detail: strings[r[1]],
      code: strings[r[2]],
      reason: r[3],
      pr: r[4] === 0 ? null : r[4],
      url: url,
      ci: strings[r[6]],
      descendants: r[7],
      level: r[8],
      haystack: (name + " " + strings[r[2]] + " " + r[3]).toLowerCase()
    };
  });

  var sortKey = "level";
  var sortDir = 1;
  var limit = PAGE;
  var levelFilter = null;

  function compare(a, b) {
    var x, y;
    switch (sortKey) {
      case "name": x = a.name; y = b.name; break;
      case "state": x = order.indexOf(a.state); y = order.indexOf(b.state); break;
      case "reason": x = a.code + " " + a.reason; y = b.code + " " + b.reason; break;
      case "pr": x = a.pr === null ? -1 : a.pr; y = b.pr === null ? -1 : b.pr; break;
      case "ci": x = a.ci; y = b.ci; break;
      case "descendants": x = a.descendants; y = b.descendants; break;
      default: x = a.level; y = b.level; break;
    }
    if (x < y) { return -sortDir; }
    if (x > y) { return sortDir; }
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  }

  function cell(tr, text, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function render() {
    var query = filterInput ? filterInput.value.trim().toLowerCase() : "";
    var state = stateSelect ? stateSelect.value : "";
    var matching = rows.filter(function (r) {
      return (!state || r.state === state) &&
        (levelFilter === null || r.level === levelFilter) &&
        (!query || r.haystack.indexOf(query) !== -1);
    });
    matching.sort(compare);
    var fragment = document.createDocumentFragment();
    matching.slice(0, limit).forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-state", r.state);
      tr.setAttribute("data-feedstock", r.name);
      var name = document.createElement("td");
      var link = document.createElement("a");
      link.href = data.feedstock_base + encodeURIComponent(r.stem) + ".html";
      link.textContent = r.name;
      name.appendChild(link);
      tr.appendChild(name);
      var st = cell(tr, "", "");
      var badge = document.createElement("span");
      badge.className = "badge s-" + r.state;
      badge.textContent = r.detail;
      st.appendChild(badge);
      var reason = cell(tr, "", "reason");
      var code = document.createElement("code");
      code.textContent = r.code;
      reason.appendChild(code);
      if (r.reason) { reason.appendChild(document.createTextNode(" " + r.reason)); }
      var pr = cell(tr, "", "num");
      if (r.pr !== null) {
        if (r.url) {
          var a = document.createElement("a");
          a.href = r.url;
          a.textContent = "#" + r.pr;
          pr.appendChild(a);
        } else {
          pr.textContent = "#" + r.pr;
        }
      }
      cell(tr, r.ci, "");
      cell(tr, String(r.descendants), "num");
      cell(tr, String(r.level), "num");
      fragment.appendChild(tr);
    });
    body.textContent = "";
    body.appendChild(fragment);
    if (shown) {
      shown.textContent = "showing " + Math.min(limit, matching.length) + " of " +
        matching.length + " matching (" + rows.length + " in the migration)" +
        (levelFilter === null ? "" : ", level " + levelFilter);
    }
    if (moreButton) {
      moreButton.hidden = matching.length <= limit;
      moreButton.textContent = "Show all " + matching.length;
    }
  }

  function setSort(key, dir) {
    sortKey = key;
    sortDir = dir;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      if (th.getAttribute("data-key") === key) {
        th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      } else if (th.hasAttribute("data-key")) {
        th.removeAttribute("aria-sort");
      }
    });
  }

  // `#state=in-pr&level=2&q=numpy`: links from the index and the graph land filtered.
  function readHash() {
    levelFilter = null;
    var hash = window.location.hash.replace(/^#/, "");
    hash.split("&").forEach(function (part) {
      var eq = part.indexOf("=");
      if (eq < 0) { return; }
      var key = part.slice(0, eq);
      var value = decodeURIComponent(part.slice(eq + 1));
      if (key === "state" && stateSelect) { stateSelect.value = value; }
      if (key === "q" && filterInput) { filterInput.value = value; }
      if (key === "level" && /^[0-9]+$/.test(value)) { levelFilter = parseInt(value, 10); }
    });
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    var key = th.getAttribute("data-key");
    if (!key) { return; }
    th.tabIndex = 0;
    function activate() {
      var numeric = key === "descendants" || key === "pr";
      setSort(key, sortKey === key ? -sortDir : (numeric ? -1 : 1));
      render();
    }
    th.addEventListener("click", activate);
    th.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        activate();
      }
    });
  });
  if (filterInput) {
    filterInput.addEventListener("input", function () { limit = PAGE; render(); });
  }
  if (stateSelect) {
    stateSelect.addEventListener("change", function () { limit = PAGE; render(); });
  }
  if (moreButton) {
    moreButton.addEventListener("click", function () { limit = rows.length; render(); });
  }
  window.addEventListener("hashchange", function () {
    readHash();
    limit = PAGE;
    render();
    table.scrollIntoView();
  });

  setSort("level", 1);
  readHash();
  render();
})();
