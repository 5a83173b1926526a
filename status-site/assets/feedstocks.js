// cascade status site: the filterable list of every feedstock (feedstocks.html).
// Names come from the page itself (<script type="application/json" id="feedstock-names">:
// [[name, file stem or null when equal]]) and are inserted as text, never as HTML.
(function () {
  "use strict";

  var dataNode = document.getElementById("feedstock-names");
  var list = document.getElementById("feedstock-list");
  if (!dataNode || !list) {
    return;
  }
  var names = JSON.parse(dataNode.textContent);
  var filterInput = document.getElementById("filter");
  var shown = document.getElementById("shown");
  var moreButton = document.getElementById("show-more");
  var PAGE = 1000;
  var limit = PAGE;

  function render() {
    var query = filterInput ? filterInput.value.trim().toLowerCase() : "";
    var matching = names.filter(function (n) {
      return !query || n[0].toLowerCase().indexOf(query) !== -1;
    });
    var fragment = document.createDocumentFragment();
    matching.slice(0, limit).forEach(function (n) {
      var li = document.createElement("li");
      li.setAttribute("data-feedstock", n[0]);
      var a = document.createElement("a");
      a.href = "feedstocks/" + encodeURIComponent(n[1] === null ? n[0] : n[1]) + ".html";
      a.textContent = n[0];
      li.appendChild(a);
      fragment.appendChild(li);
    });
    list.textContent = "";
    list.appendChild(fragment);
    if (shown) {
      shown.textContent = "showing " + Math.min(limit, matching.length) + " of " +
        matching.length + " matching (" + names.length + " in all)";
    }
    if (moreButton) {
      moreButton.hidden = matching.length <= limit;
      moreButton.textContent = "Show all " + matching.length;
    }
  }

  if (filterInput) {
    filterInput.addEventListener("input", function () { limit = PAGE; render(); });
  }
  if (moreButton) {
    moreButton.addEventListener("click", function () { limit = names.length; render(); });
  }
  render();
})();
