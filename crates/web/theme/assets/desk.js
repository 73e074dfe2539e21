// The editor's live preview: the body is rendered by the server exactly as the site renders
// it (Markdown, then sanitizing), so the preview cannot run anything a writer typed.
// Without JavaScript the editor works the same; only the preview is missing.
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
