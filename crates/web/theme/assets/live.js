// The latest news, live: on the front page and the first page of the latest news, new items
// from the live stream (/api/v1/live) slide into the list with the markup the server renders,
// a breaking item raises the banner, an update changes the headline and a withdrawn item
// leaves. Without JavaScript the page is the same server-rendered list, only not live.
// Everything the stream carries goes in as text (textContent, setAttribute): never as HTML.
(function () {
  "use strict";
  var list = document.querySelector("[data-live]");
  if (!list || !window.EventSource) return;
  var isStream = list.classList.contains("stream-list");
  var breakingLabel = list.getAttribute("data-live-breaking") || "Breaking";
  // The list keeps the length the server gave it; the first item added to an empty list
  // allows a list of one.
  var keep = Math.max(list.children.length, 1);

  function formatter(options) {
    try {
      options.timeZone = list.getAttribute("data-live-zone") || undefined;
      return new Intl.DateTimeFormat("en-GB", options);
    } catch (e) {
      delete options.timeZone;
      return new Intl.DateTimeFormat("en-GB", options);
    }
  }
  var clock = formatter({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  var day = formatter({ day: "numeric", month: "short" });

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function time(iso, withDate) {
    var node = el("time");
    node.setAttribute("datetime", iso);
    var at = new Date(iso);
    node.textContent = withDate ? day.format(at) + ", " + clock.format(at) : clock.format(at);
    return node;
  }

  function flagged(link, item) {
    if (item.breaking) {
      link.appendChild(el("span", "flag", breakingLabel));
      link.appendChild(document.createTextNode(" "));
    }
  }

  // As macros.html's news_stream renders one item.
  function streamItem(item) {
    var li = el("li", "stream-item" + (item.breaking ? " is-breaking" : ""));
    if (item.published_at) li.appendChild(time(item.published_at, false));
    var div = el("div");
    var link = el("a");
    link.setAttribute("href", item.url);
    flagged(link, item);
    link.appendChild(document.createTextNode(item.kind === "brief" ? item.teaser : item.headline));
    div.appendChild(link);
    div.appendChild(document.createTextNode(" "));
    div.appendChild(el("span", "stream-section", item.section_name));
    li.appendChild(div);
    return li;
  }

  // As macros.html's teaser renders one item on the latest-news page.
  function listingItem(item) {
    var li = el("li");
    var article = el("article", "teaser teaser-" + item.kind);
    var heading = el("h2", "teaser-headline");
    var link = el("a");
    link.setAttribute("href", item.url);
    flagged(link, item);
    link.appendChild(document.createTextNode(item.headline));
    heading.appendChild(link);
    article.appendChild(heading);
    if (item.standfirst || item.kind === "story") article.appendChild(el("p", "teaser-text", item.teaser));
    var meta = el("p", "teaser-meta");
    var section = el("a", "section-link", item.section_name);
    section.setAttribute("href", item.section_url);
    meta.appendChild(section);
    if (item.published_at) {
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(time(item.published_at, true));
    }
    article.appendChild(meta);
    li.appendChild(article);
    return li;
  }

  function render(item) {
    var li = isStream ? streamItem(item) : listingItem(item);
    li.setAttribute("data-item", String(item.id));
    return li;
  }

  function find(id) {
    return list.querySelector('li[data-item="' + String(Number(id)) + '"]');
  }

  function show(item) {
    if (!item || typeof item.id !== "number") return;
    var fresh = render(item);
    var old = find(item.id);
    if (old) {
      list.replaceChild(fresh, old);
      return;
    }
    fresh.classList.add("live-new");
    list.insertBefore(fresh, list.firstChild);
    while (list.children.length > keep) list.removeChild(list.lastElementChild);
    var empty = document.querySelector("main .empty");
    if (empty) empty.parentNode.removeChild(empty);
  }

  // As home.html renders the banner.
  function banner(item) {
    var region = document.querySelector(".breaking");
    if (!region) {
      region = el("div", "breaking live-new");
      region.setAttribute("role", "region");
      region.setAttribute("aria-label", breakingLabel);
      var masthead = document.querySelector(".masthead");
      if (!masthead) return;
      masthead.parentNode.insertBefore(region, masthead.nextSibling);
    }
    var p = el("p");
    p.appendChild(el("strong", null, breakingLabel));
    p.appendChild(document.createTextNode(" "));
    var link = el("a", null, item.headline);
    link.setAttribute("href", item.url);
    p.appendChild(link);
    if (item.published_at) {
      p.appendChild(document.createTextNode(" "));
      p.appendChild(time(item.published_at, false));
    }
    region.textContent = "";
    region.appendChild(p);
  }

  function removed(gone) {
    if (!gone) return;
    var old = find(gone.id);
    if (old) old.parentNode.removeChild(old);
    var region = document.querySelector(".breaking");
    var link = region && region.querySelector("a");
    if (link && link.getAttribute("href") === gone.url) region.parentNode.removeChild(region);
  }

  function read(message) {
    try {
      return JSON.parse(message.data);
    } catch (e) {
      return null;
    }
  }

  var source = new EventSource(list.getAttribute("data-live"));
  // For scripts and styles that care whether the list is live right now.
  source.addEventListener("open", function () { list.setAttribute("data-live-state", "open"); });
  source.addEventListener("error", function () { list.setAttribute("data-live-state", "retrying"); });
  source.addEventListener("item.published", function (m) { show(read(m)); });
  source.addEventListener("item.updated", function (m) {
    var item = read(m);
    if (item && find(item.id)) show(item);
  });
  source.addEventListener("breaking", function (m) {
    var item = read(m);
    if (!item) return;
    banner(item);
    show(item);
  });
  source.addEventListener("item.unpublished", function (m) { removed(read(m)); });
  // The stream could not replay what we missed: the page itself is the fresh state.
  source.addEventListener("reset", function () {
    source.close();
    window.location.reload();
  });
})();
