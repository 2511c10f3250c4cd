// Small progressive enhancements; every task works without JavaScript.
(function () {
  "use strict";
  // Ask before destructive actions marked with data-confirm (the server still requires a POST with CSRF).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // Avoid accidental double submits; the server deduplicates anyway.
    var buttons = form.querySelectorAll("button[type=submit]");
    window.setTimeout(function () {
      buttons.forEach(function (b) { b.disabled = true; });
    }, 0);
    window.setTimeout(function () {
      buttons.forEach(function (b) { b.disabled = false; });
    }, 4000);
  });
})();
