// The programme's audience picker: find a unit by name, show what a ticked branch already
// covers, and keep the count of people to invite live. The counts come from the page itself
// (people per unit, rendered by the server); nothing is fetched.
(function () {
  var box = document.querySelector("[data-audience]");
  if (!box) return;
  var items = Array.prototype.slice.call(box.querySelectorAll("li[data-people]"));
  var search = box.querySelector(".audience-search");
  var filter = document.getElementById("audience-filter");
  var matches = document.getElementById("audience-matches");
  var count = box.querySelector("[data-audience-count]");
  var noun = box.querySelector("[data-audience-noun]");
  // The picker's words, translated by the server (data-labels); "{n}" and "{name}" are filled in.
  var words = JSON.parse(box.dataset.labels || "{}");
  function say(key, fallback, n, name) {
    var text = words[key] || fallback;
    return text.replace("{n}", String(n)).replace("{name}", name || "");
  }

  function checkbox(li) { return li.querySelector(":scope > .unit-row input"); }
  function parentItem(li) { return li.parentElement.closest("li[data-people]"); }
  function coveredFromAbove(li) {
    for (var up = parentItem(li); up; up = parentItem(up)) {
      if (checkbox(up).checked) return true;
    }
    return false;
  }

  function update() {
    var total = 0;
    items.forEach(function (li) {
      var input = checkbox(li);
      var covered = coveredFromAbove(li);
      // A unit under a ticked branch is already invited: show it ticked, and not separately.
      if (covered && !input.disabled) { input.dataset.own = input.checked ? "1" : ""; }
      if (!covered && input.disabled) { input.checked = input.dataset.own === "1"; }
      input.disabled = covered;
      if (covered) input.checked = true;
      li.classList.toggle("covered", covered);
      if (input.checked) total += Number(li.dataset.people);
    });
    count.textContent = String(total);
    noun.textContent = total === 1 ? say("person", "person", 1) : say("people", "people", total);
  }

  function applyFilter() {
    var query = filter.value.trim().toLowerCase();
    var shown = 0;
    box.classList.toggle("searching", query !== "");  // folded branches open while searching
    if (!query) {  // after a search, keep open the branches where something was ticked
      box.querySelectorAll(".tree-checks ul[hidden]").forEach(function (list) {
        if (list.querySelector("input:checked")) list.showBranch(true);
      });
    }
    items.slice().reverse().forEach(function (li) {  // children before their parents
      var name = li.querySelector(".unit-name").textContent.toLowerCase();
      var childShown = li.querySelector(":scope > ul > li:not([hidden])") !== null;
      var hit = !query || name.indexOf(query) !== -1;
      li.hidden = !(hit || childShown);
      if (query && hit) shown += 1;
    });
    matches.textContent = query ? (shown === 0 ? say("no_match", "No unit matches.", 0) :
      (shown === 1 ? say("one_match", "{n} unit matches.", 1) :
        say("many_match", "{n} units match.", shown))) : "";
  }

  // Fold branches below the second level, each with a button to open it.
  items.forEach(function (li, index) {
    var list = li.querySelector(":scope > ul");
    if (!list) return;
    var depth = 0;
    for (var up = parentItem(li); up; up = parentItem(up)) depth += 1;
    var size = list.querySelectorAll("li").length;
    var name = li.querySelector(".unit-name").firstChild.textContent.trim();
    var button = document.createElement("button");
    button.type = "button";
    button.className = "link-button branch-toggle";
    list.id = "audience-branch-" + index;
    button.setAttribute("aria-controls", list.id);
    function show(open) {
      list.hidden = !open;
      button.setAttribute("aria-expanded", open ? "true" : "false");
      var key = (open ? "hide" : "show") + (size === 1 ? "_one" : "_many");
      var fallback = (open ? "Hide the " : "Show the ") + "{n}" + (size === 1 ? " unit" : " units")
        + " in {name}";
      button.textContent = say(key, fallback, size, name);
    }
    list.showBranch = show;
    button.addEventListener("click", function () { show(list.hidden); });
    li.querySelector(":scope > .unit-row").appendChild(button);
    show(depth < 2 || list.querySelector("input:checked") !== null);
  });

  search.hidden = false;
  filter.addEventListener("input", applyFilter);
  filter.addEventListener("keydown", function (event) {
    if (event.key === "Enter") event.preventDefault();  // searching must not submit the form
  });
  box.addEventListener("change", update);
  // Disabled boxes are not sent; a ticked branch already includes them on the server too.
  update();
})();
