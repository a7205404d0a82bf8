// Quick exit: leave for a neutral site and replace this page in the history, so the
// Back button does not bring the report page back. Without JavaScript the link still works.
(function () {
  "use strict";
  function leave(link) {
    try { document.body.style.visibility = "hidden"; } catch (e) { /* ignore */ }
    // Ask the server to forget this session (answers, an open report) without waiting;
    // keepalive lets the request finish after this page is gone.
    try {
      fetch(link.href, { method: "POST", keepalive: true, credentials: "same-origin" });
    } catch (e) {
      try { navigator.sendBeacon(link.href); } catch (e2) { /* the link itself still works */ }
    }
    window.location.replace(link.getAttribute("data-target") || link.href);
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-quick-exit]");
    if (!link) { return; }
    event.preventDefault();
    leave(link);
  });
  var lastEscape = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var now = Date.now();
    if (now - lastEscape < 800) {
      var link = document.querySelector("[data-quick-exit]");
      if (link) { leave(link); }
    }
    lastEscape = now;
  });
})();
