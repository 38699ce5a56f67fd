// The main menu collapses into one "Menu" button on narrow screens. Without this script the
// links stay visible and wrap, so every page still works.
(function () {
  var toggle = document.querySelector(".menu-toggle");
  var links = document.getElementById("nav-links");
  if (!toggle || !links) return;
  document.documentElement.classList.add("js-nav");
  toggle.hidden = false;
  function setOpen(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    links.classList.toggle("open", open);
  }
  toggle.addEventListener("click", function () {
    setOpen(toggle.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      toggle.focus();
    }
  });
})();
