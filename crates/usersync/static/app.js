// usersync admin console: live run progress over server-sent events.
// Everything else is plain HTML forms and htmx attributes.
(function () {
  "use strict";
  function watch(el) {
    var url = el.getAttribute("data-run-events");
    if (!url || !window.EventSource) return;
    var source = new EventSource(url);
    var bar = el.querySelector(".progress > div");
    var text = el.querySelector("[data-progress-text]");
    source.addEventListener("progress", function (e) {
      var p = JSON.parse(e.data);
      if (text) text.textContent = p.message;
      if (bar && p.total > 0) bar.style.width = Math.round((100 * p.done) / p.total) + "%";
    });
    source.addEventListener("done", function () {
      source.close();
      if (bar) bar.style.width = "100%";
      window.location.reload();
    });
    source.onerror = function () { source.close(); if (text) text.textContent = "Lost the live connection; reload the page to see the latest state."; };
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-run-events]").forEach(watch);
  });
})();
// Forms that destroy something ask first (data-confirm), without inline script.
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) e.preventDefault();
});
