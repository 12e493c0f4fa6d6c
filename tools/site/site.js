// Typeset the math that tools/build_docs.py marked up as <span class="math inline|display">,
// with the KaTeX shipped beside this file (no network). Sets <html data-math="done|errors|missing">.
(function () {
  "use strict";
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
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", typeset);
  else typeset();
})();
