// The editor's live preview and autosave. Without JavaScript the editor works the same; only
// these two are missing.
//
// Preview: the body is rendered by the server exactly as the site renders it (Markdown, then
// sanitizing), so the preview cannot run anything a writer typed.
(function () {
  "use strict";
  var body = document.getElementById("body");
  var pane = document.getElementById("preview");
  var form = document.querySelector("form.editor");
  if (!body || !pane || !form) return;
  var csrf = form.querySelector("input[name=csrf]").value;
  var timer = null;
  var sent = 0;
  function render() {
    var mine = ++sent;
    var data = new URLSearchParams();
    data.set("csrf", csrf);
    data.set("body", body.value);
    fetch("/desk/preview", { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (mine === sent) { pane.innerHTML = html; pane.setAttribute("aria-busy", "false"); }
      })
      .catch(function () { pane.setAttribute("aria-busy", "false"); });
  }
  body.addEventListener("input", function () {
    pane.setAttribute("aria-busy", "true");
    clearTimeout(timer);
    timer = setTimeout(render, 300);
  });
  pane.hidden = false;
  render();
})();

// Autosave: while a person types, the form goes to their own autosave slot on the server
// (never the item: the public page, the status and the history change only on a real save).
// The editor offers the slot back when they return.
(function () {
  "use strict";
  // Quiet time after the last change before saving.
  var DEBOUNCE_MS = 3000;
  // Never more often than this, however the changes come.
  var MIN_INTERVAL_MS = 10000;
  // Someone typing without a pause is still saved this often.
  var MAX_WAIT_MS = 30000;
  var form = document.querySelector("form.editor[data-autosave]");
  var status = document.getElementById("autosave-status");
  if (!form || !status || !window.fetch) return;
  var url = form.getAttribute("data-autosave");

  // The form as it would be posted, without files (an image is sent only by a real save).
  function snapshot() {
    var data = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string") data.append(name, value);
    });
    return data.toString();
  }

  var saved = snapshot(); // what the server has, or the page was opened with
  var timer = null;
  var inFlight = false;
  var lastSent = 0;
  var pendingSince = 0;
  var stopped = false;

  function say(text) { status.textContent = text; }

  function schedule() {
    if (stopped) return;
    var now = Date.now();
    if (!pendingSince) pendingSince = now;
    var wait = Math.max(DEBOUNCE_MS, lastSent + MIN_INTERVAL_MS - now);
    var deadline = Math.max(pendingSince + MAX_WAIT_MS, lastSent + MIN_INTERVAL_MS);
    wait = Math.min(wait, Math.max(0, deadline - now));
    clearTimeout(timer);
    timer = setTimeout(save, wait);
  }

  function save() {
    if (stopped) return;
    if (inFlight) { schedule(); return; }
    var current = snapshot();
    pendingSince = 0;
    if (current === saved) return; // nothing changed: nothing to send
    inFlight = true;
    lastSent = Date.now();
    fetch(url, {
      method: "POST",
      body: current,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      credentials: "same-origin",
      redirect: "manual"
    })
      .then(function (r) {
        var json = (r.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        if (r.ok && json) return r.json();
        var plain = (r.headers.get("Content-Type") || "").indexOf("text/plain") === 0;
        return (plain ? r.text() : Promise.resolve("")).then(function (why) {
          return Promise.reject(why);
        });
      })
      .then(function (answer) {
        saved = current;
        if (!stopped) say("Autosaved at " + answer.time);
      })
      .catch(function (why) {
        if (stopped) return;
        var text = "Autosave failed — your changes are still here.";
        say(typeof why === "string" && why ? text + " " + why : text);
      })
      .then(function () {
        inFlight = false;
        // Changes made while this one was on its way go next; a failure waits for the next
        // change rather than retrying on its own.
        if (!stopped && snapshot() !== current) schedule();
      });
  }

  function changed(event) {
    if (event.target && event.target.type === "file") return;
    schedule();
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  // A real save replaces the slot: nothing may be autosaved after it has gone.
  form.addEventListener("submit", function () {
    stopped = true;
    clearTimeout(timer);
  });
})();
