// Posting a comment without leaving the page. Without JavaScript the form posts and the
// server answers with the discussion page; with it, the same form is sent with
// `Accept: application/json`, the server's rendered comment is put in place, and the text
// box is cleared. The server renders the comment (escaped), so nothing typed runs here.
(function () {
  "use strict";
  var form = document.getElementById("comment-form");
  if (!form || !window.fetch) return;
  var status = form.querySelector(".comment-status");
  var body = form.querySelector("textarea[name=body]");
  var key = form.querySelector("input[name=key]");
  function freshKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.textContent = "Posting…";
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    })
      .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
      .then(function (answer) {
        button.disabled = false;
        if (!answer.ok) {
          status.textContent = answer.data.error || "The comment was not posted.";
          return;
        }
        var holder = document.createElement("div");
        holder.innerHTML = answer.data.html;
        var item = holder.querySelector("li");
        var parent = form.querySelector("input[name=parent]");
        var list = document.querySelector("ol.comments");
        if (parent) {
          var target = document.getElementById("c" + parent.value);
          if (target) {
            list = target.querySelector("ol.replies");
            if (!list) { list = document.createElement("ol"); list.className = "replies"; target.appendChild(list); }
          }
        }
        if (item && list) list.insertBefore(item, list.firstChild);
        body.value = "";
        key.value = freshKey();
        status.textContent = answer.data.held
          ? "Thanks. Your comment waits for a moderator before others can see it."
          : "Your comment is published.";
      })
      .catch(function () {
        button.disabled = false;
        status.textContent = "The comment was not posted; your text is still here. Try again.";
      });
  });
})();
