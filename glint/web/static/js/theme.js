// The colour theme, applied before the first paint: this is a classic script in <head> on
// purpose (a module would run after the page has been painted in the wrong colours).
// data-theme on <html> always holds the theme in force: the reader's stored choice, or
// otherwise the OS preference, followed live while no choice is stored.
(function () {
  "use strict";
  var KEY = "glint-theme";
  var root = document.documentElement;
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "dark" || value === "light" ? value : null;
    } catch (err) {
      return null; // storage blocked: follow the OS
    }
  }

  function apply() {
    root.setAttribute("data-theme", stored() || (media && media.matches ? "dark" : "light"));
  }

  apply();
  if (media && media.addEventListener) {
    media.addEventListener("change", apply);
  }
  // Another tab changed the choice: follow it here too.
  window.addEventListener("storage", function (event) {
    if (event.key === KEY) {
      apply();
    }
  });
})();
