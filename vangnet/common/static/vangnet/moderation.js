/* Keyboard shortcuts on the review page: a key presses the page's own button, link or checkbox
   marked data-shortcut="<key>". The page works the same without this script. Keys are ignored
   while typing in a field or with a modifier held; "?" moves focus to the visible list of keys.
   What a key did is announced through the page's role="status" region. */
(function () {
  "use strict";
  var announcer = document.getElementById("shortcut-announcer");
  var TEXT_INPUTS = /^(text|search|email|url|tel|password|number|date|datetime-local|month|week|time)$/;

  function say(text) {
    if (!announcer || !text) { return; }
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 30);
  }

  function typing(element) {
    if (!element || !element.tagName) { return false; }
    if (element.isContentEditable) { return true; }
    var tag = element.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select") { return true; }
    return tag === "input" && TEXT_INPUTS.test((element.getAttribute("type") || "text").toLowerCase());
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) { return; }
    if (typing(event.target)) { return; }
    var key = event.key;
    if (key === "?") {
      var list = document.getElementById("shortcuts");
      if (list) {
        event.preventDefault();
        list.focus();
        list.scrollIntoView({block: "start"});
        say(announcer && announcer.getAttribute("data-list"));
      }
      return;
    }
    if (!/^[a-z]$/.test(key)) { return; }
    var target = document.querySelector('[data-shortcut="' + key + '"]');
    if (!target) { return; }
    event.preventDefault();
    var details = target.closest("details");
    if (details && !details.open) { details.open = true; }
    if (target.type === "checkbox") {
      target.click();
      say(announcer && announcer.getAttribute(target.checked ? "data-clear" : "data-blurred"));
      return;
    }
    say(target.textContent.replace(/\s+[a-z]$/, "").trim());
    target.click();
  });
}());
