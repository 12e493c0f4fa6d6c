// The pages tools/build_docs.py writes: typeset the math it marked up as <span class="math inline|display">
// with the KaTeX shipped beside this file (no network; sets <html data-math="done|errors|missing">),
// open and close the sidebar on narrow screens, and search the site with the index the build wrote
// (assets/search-index.js, loaded as a script on first use, so it works from file:// too).
(function () {
  "use strict";
  var root = document.documentElement.getAttribute("data-root") || "";

  function typeset() {
    var els = document.querySelectorAll("span.math");
    if (!window.katex) {
      document.documentElement.setAttribute("data-math", els.length ? "missing" : "done");
      return;
    }
    var errors = 0;
    Array.prototype.forEach.call(els, function (el) {
      var tex = el.textContent, display = el.classList.contains("display");
      var m = tex.match(/^\\[(\[]([\s\S]*)\\[)\]]$/);
      if (m) tex = m[1];
      try {
        katex.render(tex, el, { displayMode: display, throwOnError: true });
      } catch (e) {
        errors += 1;
        katex.render(tex, el, { displayMode: display, throwOnError: false });
        el.setAttribute("title", String(e.message || e));
      }
    });
    document.documentElement.setAttribute("data-math", errors ? "errors" : "done");
  }

  function sidebarToggle() {
    var btn = document.getElementById("nav-toggle"), bar = document.getElementById("sidebar");
    if (!btn || !bar) return;
    btn.addEventListener("click", function () {
      var open = bar.classList.toggle("open");
      btn.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // -- search: every term must occur in a section's heading or text; heading hits rank first
  var waiting = null;
  function loadIndex(cb) {
    if (window.MIXEDNB_SEARCH) { cb(); return; }
    if (waiting) { waiting.push(cb); return; }
    waiting = [cb];
    var s = document.createElement("script");
    s.src = root + "assets/search-index.js";
    s.onload = s.onerror = function () { var w = waiting; waiting = null; w.forEach(function (f) { f(); }); };
    document.head.appendChild(s);
  }
  function esc(s) {
    return s.replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }
  function snippet(text, term) {
    var i = text.toLowerCase().indexOf(term);
    if (i < 0) return esc(text.slice(0, 120)) + (text.length > 120 ? "…" : "");
    var a = Math.max(0, i - 50), b = Math.min(text.length, i + term.length + 70);
    return (a > 0 ? "…" : "") + esc(text.slice(a, i)) + "<mark>" + esc(text.slice(i, i + term.length)) + "</mark>" +
      esc(text.slice(i + term.length, b)) + (b < text.length ? "…" : "");
  }
  function search(q) {
    var terms = q.toLowerCase().split(/\s+/).filter(Boolean), hits = [];
    if (!terms.length || !window.MIXEDNB_SEARCH) return hits;
    window.MIXEDNB_SEARCH.forEach(function (e) {  // [page, page title, anchor, heading, text]
      var head = (e[1] + " " + e[3]).toLowerCase(), body = e[4].toLowerCase(), score = 0;
      for (var i = 0; i < terms.length; i++) {
        var t = terms[i], inHead = head.indexOf(t) >= 0;
        if (!inHead && body.indexOf(t) < 0) return;
        score += inHead ? 10 : 1;
        if (e[3].toLowerCase() === t || e[3].toLowerCase().split(".").pop() === t) score += 20;
      }
      hits.push([score, e]);
    });
    hits.sort(function (a, b) { return b[0] - a[0]; });
    return hits.slice(0, 30).map(function (h) { return h[1]; });
  }
  function setupSearch() {
    var input = document.getElementById("search-input"), list = document.getElementById("search-results");
    if (!input || !list) return;
    function show() {
      var q = input.value.trim(), hits = search(q);
      document.getElementById("sidebar").classList.toggle("searching", q.length > 0);
      if (!q) { list.innerHTML = ""; return; }
      if (!window.MIXEDNB_SEARCH) { list.innerHTML = '<li class="none">The search index did not load.</li>'; return; }
      if (!hits.length) { list.innerHTML = '<li class="none">No page mentions “' + esc(q) + '”.</li>'; return; }
      var term = q.toLowerCase().split(/\s+/)[0];
      list.innerHTML = hits.map(function (e) {
        var href = root + e[0] + (e[2] ? "#" + e[2] : "");
        var where = e[2] ? esc(e[1]) + " › " + esc(e[3]) : esc(e[1]);
        return '<li><a href="' + esc(href) + '"><span class="hit-title">' + where + '</span><span class="hit-text">' +
          snippet(e[4], term) + "</span></a></li>";
      }).join("");
    }
    input.addEventListener("input", function () { loadIndex(show); });
    var q = /[?&]q=([^&#]*)/.exec(window.location.search);  // page.html?q=words opens with that search
    if (q) { input.value = decodeURIComponent(q[1].replace(/\+/g, " ")); loadIndex(show); }
    input.addEventListener("focus", function () { loadIndex(function () {}); });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { var a = list.querySelector("a"); if (a) window.location.href = a.href; }
      if (ev.key === "Escape") { input.value = ""; show(); }
    });
  }

  function start() { typeset(); sidebarToggle(); setupSearch(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
