"""The docs site: `tools/build_docs.py` writes a page per notebook, and headless Chromium shows it as a reader sees it.

Two sites are built into temporary folders: the real one from `nbs/`, and a small synthetic one whose
notebooks hold every case the builder must handle (math inline, displayed and in an environment, a
saved PNG figure, `#| hide`, `#| export`, `#| exports`, `#| echo: false`, a `show_doc` with docments,
a dataclass with a factory, a property, a `__repr__`, a private sentinel, a user's guide in `guide/`).
The static checks read the HTML: pages, sidebar order and sections, links and anchors, the API reference,
the search index. The browser checks load the pages in headless Chromium (Debian's `chromium`, which
`.ci/run` installs): math typeset, figures loaded and wide enough, clean signatures, outputs on every
guide page, the search box, a phone-width page, nothing clipped. Without Chromium they fail; set
`MIXEDNB_DOCS_NO_BROWSER=1` to skip them on a machine without it (never honoured under `CI`).
"""
import base64, html, io, json, os, posixpath, re, shutil, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "tools" / "build_docs.py"
sys.path.insert(0, str(ROOT / "tools"))
import build_docs  # noqa: E402  (notebook order and page names, the same as the builder uses)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-dev-shm-usage"]  # containers often have a tiny /dev/shm
BAD_SIGNATURE = re.compile(r"__main__\.|\bNoneType\b|<factory>|\b_Unset\b|\bmixednb\.\w+\.")


def run_build(out: Path, nbs: Path | None = None):
    cmd = [sys.executable, str(BUILD), "--out", str(out)] + (["--nbs", str(nbs)] if nbs else [])
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, f"build_docs.py failed ({r.returncode}):\n{r.stdout}\n{r.stderr[-8000:]}"
    return out


def page_name(nb: Path, nbs: Path) -> str:
    from nbdev.config import nbpath2html
    return nbpath2html(nb.relative_to(nbs)).as_posix()


def sidebar(page: Path) -> list:
    "[(href, text)] of the sidebar's page links, and ('section', title) for each section heading, in order"
    nav = re.search(r'<ol class="pages">(.*?)</ol>', page.read_text(), flags=re.S)
    assert nav, f"{page.name}: no sidebar"
    out = []
    for m in re.finditer(r'<li class="section-title">([^<]*)</li>|<a href="([^"]+)"[^>]*>(.*?)</a>', nav[1]):
        if m[1] is not None: out.append(("section", html.unescape(m[1])))
        else: out.append((m[2], html.unescape(re.sub(r"<[^>]+>", "", m[3])).strip()))
    return out


def sidebar_links(page: Path) -> list:
    return [x for x in sidebar(page) if x[0] != "section"]


def html_pages(site: Path) -> list:
    return sorted(p for p in site.rglob("*.html") if not p.name.startswith("_probe_"))


def broken_links(site: Path) -> list:
    "Internal links whose page or anchor does not exist"
    ids = {p.relative_to(site).as_posix(): set(re.findall(r'\bid="([^"]+)"', p.read_text())) for p in html_pages(site)}
    bad = []
    for p in html_pages(site):
        rel = p.relative_to(site).as_posix()
        for h in re.findall(r'\b(?:href|src)="([^"]+)"', p.read_text()):
            h = html.unescape(h)
            if re.match(r"[a-z][a-z0-9+.-]*:", h): continue
            path, _, frag = h.partition("#")
            target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), path)) if path else rel
            if not (site / target).exists(): bad.append(f"{rel}: {h} (no file {target})")
            elif frag and target in ids and frag not in ids[target]: bad.append(f"{rel}: {h} (no anchor #{frag})")
    return bad


# ---------------------------------------------------------------------------------------------
# The synthetic notebooks

def _png(width_in=6.0) -> str:
    "A small line plot as base64 PNG, as Jupyter saves it (480 px wide at 80 dpi)"
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(width_in, 2.5), dpi=80)
    ax.plot([0, 1, 2, 3], [0, 1, 4, 9], marker="o")
    ax.set_title("demo plot")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


MATH_MD = r"""## Math and $\theta$ in a heading

Inline: the covariance $\sigma^2 \lambda\lambda^\top$ of $b_i = \lambda u_i$, with $a_i * b_j$ kept whole.
Displayed:

$$-2\tilde\ell(\theta)=\log|L_\theta|^2+n\Big[1+\log\frac{2\pi r^2_\theta}{n}\Big].$$

An environment: \begin{aligned} r^2_\theta &= \min_{\beta,u}\|y-X\beta-Z\Lambda_\theta u\|^2+\|u\|^2 \end{aligned}

Prices are not math: it costs $5 and $6 here."""

THING = '''#| export
class _Unset: pass

@dataclass
class Thing:
    "A thing that holds items"
    items:list=field(default_factory=list) # the items
    def __repr__(self): return f"Thing({len(self.items)})"
    @property
    def size(self):
        "Number of items"
        return len(self.items)

def use_thing(t:Thing, # a thing
              w=None, # weights, or None
              s:float=_Unset, # a value, or keep the thing's
             )->Thing:
    "Use a thing"
    return t'''


def synthetic_nbs(folder: Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
    folder.mkdir(parents=True)
    def save(name, cells):
        nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
        for i, c in enumerate(nb.cells): c["id"] = f"c{i:03d}"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / name)
    save("index.ipynb", [new_markdown_cell("# Demo home\n> The synthetic site of the docs test"),
                         new_markdown_cell("Welcome: $e^{i\\pi}+1=0$. Start with [the guide](guide/01_start.ipynb), "
                                           "or read [chapter 1](01_demo.ipynb#circle_area).")])
    save("01_demo.ipynb", [
        new_code_cell("#| default_exp demo"),
        new_markdown_cell("# Demo chapter\n> Math, a plot and API docs for the docs test"),
        new_code_cell("#| export\nfrom dataclasses import dataclass, field"),
        new_code_cell('#| export\ndef circle_area(r:float, # the radius\n               )->float:\n'
                      '    "Area πr² of a circle of radius `r`"\n    return 3.14159*r*r'),
        new_markdown_cell(MATH_MD),
        new_code_cell("#| hide\nHIDDEN_CELL_MARKER = 1"),
        new_code_cell("fig  # a saved figure", outputs=[new_output(
            "display_data", data={"image/png": _png(), "text/plain": "<Figure size 480x200 with 1 Axes>"})]),
        new_code_cell('#| echo: false\nprint("ECHO_FALSE_OUTPUT")',
                      outputs=[new_output("stream", name="stdout", text="ECHO_FALSE_OUTPUT\n")]),
        new_markdown_cell("#| export\nA module summary, MARKDOWN_EXPORT_MARKER, that `help(mixednb.demo)` shows too."),
        new_code_cell('#| eval: false\nnever_run("EVAL_FALSE_MARKER")'),
        new_markdown_cell("## shown_source\n\nA section named like the symbol: the API docs keep the plain anchor."),
        new_code_cell('#| exports\ndef shown_source():\n    "Exported with its source shown"\n    return "SHOWN_SOURCE_MARKER"'),
        new_markdown_cell("## Signatures"),
        new_code_cell(THING),
        new_code_cell("show_doc(Thing.__repr__)"),
        new_code_cell("show_doc(Thing.size)"),
        new_code_cell("x = " + "1234567890 + " * 40 + "0  # a long line scrolls, it is not clipped"),
    ])
    save("02_second.ipynb", [new_markdown_cell("# Second chapter\n> Ordering"), new_markdown_cell("Nothing else.")])
    save("guide/01_start.ipynb", [
        new_markdown_cell("# Getting started\n> The first guide page"),
        new_markdown_cell("See [the demo chapter](../01_demo.ipynb) for how it works."),
        new_code_cell("print('GUIDE_OUTPUT')", outputs=[new_output("stream", name="stdout", text="GUIDE_OUTPUT\n")]),
        new_code_cell("fig", outputs=[new_output(
            "display_data", data={"image/png": _png(7), "text/plain": "<Figure size 560x200 with 1 Axes>"})]),
    ])
    save("guide/02_more.ipynb", [
        new_markdown_cell("# More\n> The second guide page"),
        new_code_cell("1 + 1", outputs=[new_output("execute_result", data={"text/plain": "2"}, execution_count=1)]),
    ])
    save("_scratch.ipynb", [new_markdown_cell("# Scratch")])
    return folder


SYNTH_ORDER = ["index.html", "guide/start.html", "guide/more.html", "demo.html", "second.html"]


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("synth")
    nbs = synthetic_nbs(tmp / "nbs")
    return run_build(tmp / "site", nbs)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return run_build(tmp_path_factory.mktemp("docs") / "site")


def real_pages() -> list:
    return [page_name(f, ROOT / "nbs") for f in build_docs.notebooks(ROOT / "nbs")] + ["reference.html"]


# ---------------------------------------------------------------------------------------------
# Static checks: the synthetic site

def test_synthetic_pages_sections_and_order(synth):
    names = sorted(p.relative_to(synth).as_posix() for p in html_pages(synth))
    assert names == sorted(SYNTH_ORDER), names
    for name in SYNTH_ORDER:
        root = "../" * name.count("/")
        links = sidebar(synth / name)
        assert links == [(root + "index.html", "Home"), ("section", "User's guide"),
                         (root + "guide/start.html", "1 Getting started"), (root + "guide/more.html", "2 More"),
                         ("section", "How it works"), (root + "demo.html", "1 Demo chapter"),
                         (root + "second.html", "2 Second chapter")], (name, links)
    assert 'class="active"' in re.search(r'<a href="demo.html"[^>]*>', (synth / "demo.html").read_text())[0]
    assert not (synth / "reference.html").exists()  # the API reference describes the project's own package


def test_synthetic_prev_next(synth):
    for i, name in enumerate(SYNTH_ORDER):
        s, root = (synth / name).read_text(), "../" * name.count("/")
        prev = re.search(r'<a class="prev" rel="prev" href="([^"]+)"', s)
        nxt = re.search(r'<a class="next" rel="next" href="([^"]+)"', s)
        assert (prev[1] if prev else None) == (root + SYNTH_ORDER[i - 1] if i else None), name
        assert (nxt[1] if nxt else None) == (root + SYNTH_ORDER[i + 1] if i + 1 < len(SYNTH_ORDER) else None), name


def test_synthetic_directives_and_api_docs(synth):
    s = (synth / "demo.html").read_text()
    assert '<h1 class="title">Demo chapter</h1>' in s
    assert "Math, a plot and API docs" in s                      # the `>` summary, as description
    assert "HIDDEN_CELL_MARKER" not in s                         # `#| hide`
    assert "3.14159" not in s                                    # `#| export` source is not shown...
    assert re.search(r'<h3 id="circle_area"', s)                 # ...its show_doc is, with an anchor
    assert "the radius" in s and "Area πr² of a circle" in s     # docments and docstring
    assert "SHOWN_SOURCE_MARKER" in s and '<details class="code-fold" open>' in s  # `#| exports`
    assert re.search(r'<h3 id="shown_source"', s) and re.search(r'<h2 id="shown_source-1"', s)
    assert s.count("ECHO_FALSE_OUTPUT") == 1                     # `#| echo: false`: output only
    assert "MARKDOWN_EXPORT_MARKER" in s and "EVAL_FALSE_MARKER" in s  # markdown export, `#| eval: false`
    assert "#|" not in s and "export: true" not in s                                        # no directive reaches the page


def signatures(s: str) -> list:
    "The text of the show_doc signature blocks of a page"
    blocks = re.findall(r'<div class="cell-output cell-output-markdown">.*?<div class="highlight"><pre>(.*?)</pre>', s, flags=re.S)
    texts = [html.unescape(re.sub(r"<[^>]+>", "", b)) for b in blocks]
    return [t for t in texts if re.match(r"(async def|def|class|@property)\b", t)]


def test_synthetic_signatures_and_headings(synth):
    s = (synth / "demo.html").read_text()
    sigs = signatures(s)
    use = next(x for x in sigs if x.startswith("def use_thing("))
    assert "t:Thing" in use and "->Thing" in use and "s:float=..." in use, use       # no __main__., no _Unset
    thing = next(x for x in sigs if x.startswith("def Thing("))
    assert "items:list=..." in thing, thing                                          # not <factory>
    assert not [x for x in sigs if BAD_SIGNATURE.search(x)], sigs
    assert re.search(r'<h3 id="thing.__repr__"[^>]*>Thing.__repr__<', s)              # not Thing.<strong>repr</strong>
    assert "<strong>repr</strong>" not in s


def test_clean_signature():
    "The rewrites, on the signatures nbdev writes for mixednb (a property and a dataclass need their objects)"
    import dataclasses
    cs = build_docs.clean_signature
    assert cs("def fit(\n    y:numpy.ndarray, w:NoneType=None, m:mixednb.lmm.LinearMixedModel=None\n)->__main__.OptSummary:") == \
        "def fit(\n    y:np.ndarray, w=None, m:LinearMixedModel=None\n)->OptSummary:"
    assert cs("def refit(\n    sigma:float=_Unset, # σ\n    df:pandas.core.frame.DataFrame=None\n)") == \
        "def refit(\n    sigma:float=..., # σ\n    df:pd.DataFrame=None\n)"
    assert cs("def update_A(\n    weights:type=_Unset, y=None\n):") == "def update_A(\n    weights=..., y=None\n):"
    @dataclasses.dataclass
    class Opt:
        log: list = dataclasses.field(default_factory=list)
        big: dict = dataclasses.field(default_factory=lambda: {str(i): i for i in range(30)})
    assert cs("def Opt(\n    log:list=<factory>, big:dict=<factory>\n)->None:", obj=Opt) == "def Opt(\n    log:list=[], big:dict=...\n)->None:"
    assert cs("def sigma(\n    \n):", obj=property(lambda self: 1)).startswith("@property\ndef sigma(self")


def test_synthetic_math_markup_and_figure(synth):
    s = (synth / "demo.html").read_text()
    inline = re.findall(r'<span class="math inline">(.*?)</span>', s, flags=re.S)
    display = re.findall(r'<span class="math display">(.*?)</span>', s, flags=re.S)
    assert len(inline) == 5 and r"\(a_i * b_j\)" in inline, inline  # 3 in text, 2 in the heading and its toc entry
    assert len(display) == 2 and any(r"\begin{aligned}" in d for d in display), display
    assert "costs $5 and $6" in s                                # pandoc's rule: not math
    imgs = re.findall(r'<img src="([^"]+)"', s)
    assert len(imgs) == 1 and re.fullmatch(r"demo_files/figure-html/cell-\d+-output-0\.png", imgs[0]), imgs
    assert (synth / imgs[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    g = re.findall(r'<img src="([^"]+)"', (synth / "guide" / "start.html").read_text())
    assert g and (synth / "guide" / g[0]).is_file(), g         # a guide page's figure, relative to its folder
    for asset in ["assets/katex/katex.min.js", "assets/katex/katex.min.css", "assets/site.js", "styles.css",
                  "assets/katex/fonts/KaTeX_Main-Regular.woff2", "assets/search-index.js"]:
        assert (synth / asset).is_file(), asset
    assert "http" not in re.sub(r'<a [^>]*href="https?://[^"]*"', "", s.split("<main")[0])  # head loads nothing remote


def test_synthetic_links_resolve(synth):
    s = (synth / "index.html").read_text()
    assert 'href="guide/start.html"' in s and 'href="demo.html#circle_area"' in s   # links to notebooks, rewritten
    assert 'href="../demo.html"' in (synth / "guide" / "start.html").read_text()
    assert not broken_links(synth), broken_links(synth)


def search_index(site: Path) -> list:
    s = (site / "assets" / "search-index.js").read_text()
    assert s.startswith("window.MIXEDNB_SEARCH = ") and s.rstrip().endswith(";")
    return json.loads(s[len("window.MIXEDNB_SEARCH = "):].rstrip().rstrip(";"))


def test_synthetic_search_index(synth):
    idx = search_index(synth)
    assert {e[0] for e in idx} == set(SYNTH_ORDER)
    assert any(e[0] == "demo.html" and e[2] == "circle_area" and "the radius" in e[4] for e in idx)
    assert any(e[0] == "guide/start.html" and "GUIDE_OUTPUT" in e[4] for e in idx)


# ---------------------------------------------------------------------------------------------
# Static checks: the real site

def test_every_notebook_has_a_page(site):
    nbs = ROOT / "nbs"
    files = build_docs.notebooks(nbs)
    assert files, "no notebooks in nbs/"
    expected = real_pages()
    for name in expected:
        assert (site / name).is_file(), f"no page {name}"
    for name in expected:
        hrefs = [h for h, _ in sidebar_links(site / name)]
        root = "../" * name.count("/")
        assert hrefs == [root + e for e in expected], f"{name}: sidebar {hrefs} != {expected}"
    sections = [t for h, t in sidebar(site / "index.html") if h == "section"]
    want = (["User's guide"] if (nbs / "guide").is_dir() and any((nbs / "guide").glob("*.ipynb")) else []) + \
           ["How it works", "API reference"]
    assert sections == want, sections
    numbered = dict(sidebar_links(site / "index.html"))
    assert numbered["lmm.html"].startswith("7 ") and numbered["gausshermite.html"].startswith("11a "), numbered


def test_quarto_sidebar_in_step():
    "nbdev-docs (Quarto) gets the same pages in the same sections: `_quarto.yml` lists every notebook"
    import yaml
    cfg = yaml.safe_load((ROOT / "nbs" / "_quarto.yml").read_text())
    want = build_docs.quarto_sidebar(ROOT / "nbs")
    assert cfg["website"]["sidebar"]["contents"] == want, (
        "nbs/_quarto.yml's sidebar is out of step with the notebooks; its `contents` should be\n"
        + yaml.dump(want, sort_keys=False, allow_unicode=True) + "(python tools/build_docs.py --quarto-sidebar prints it)")
    assert "sidebar.yml" not in cfg.get("metadata-files", [])   # nbdev's generated sidebar would replace it
    assert (ROOT / "nbs" / "reference.qmd").is_file()


def test_exported_names_have_api_docs(site):
    "Every public function and class in a module's `__all__` has a show_doc heading on its page"
    import importlib
    from mixednb._modidx import d
    missing = []
    for mod, syms in d["syms"].items():
        names = set(getattr(importlib.import_module(mod), "__all__", []))
        for qual, (loc, _) in syms.items():
            nm = qual[len(mod) + 1:]
            if "." in nm or nm.startswith("_") or nm not in names: continue
            page, anchor = loc.split("#")
            if not (site / page).is_file(): missing.append(f"{qual}: no page {page}"); continue
            if not re.search(rf'<h[1-6] id="{re.escape(anchor)}"', (site / page).read_text()):
                missing.append(f"{qual}: no heading #{anchor} in {page}")
    assert not missing, "exported names without API docs:\n" + "\n".join(missing)


def test_links_and_anchors_resolve(site):
    bad = broken_links(site)
    assert not bad, f"{len(bad)} broken internal links:\n" + "\n".join(bad[:50])


def test_home_page_links_the_chapters(site):
    s = (site / "index.html").read_text()
    table = re.search(r"<table>(?:(?!</table>).)*?\blinalg\b.*?</table>", s, flags=re.S)
    assert table, "no chapter table on the home page"
    linked = set(re.findall(r'<a href="([^"#]+)"', table[0]))
    chapters = {p for p in real_pages() if "/" not in p and p not in ("index.html", "reference.html")}
    assert chapters <= linked, f"chapters not linked from the home page's table: {sorted(chapters - linked)}"


def test_api_reference(site):
    "Every name `mixednb/__init__.py` imports (and the public members of its classes) is listed and linked"
    import mixednb
    s = (site / "reference.html").read_text()
    rows = re.findall(r'<tr class="ref-(\w+)"[^>]*><td>(.*?)</td><td>(.*?)</td></tr>', s, flags=re.S)
    listed = {}
    for kind, cell, doc in rows:
        m = re.match(r'<a href="([^"]+)"><code>([^<]+)</code></a>', cell)
        assert m, f"reference entry without a link: {cell}"
        listed[html.unescape(m[2])] = (kind, m[1], doc)
    public = build_docs.public_names("mixednb")      # mixednb's names, then mixednb.plots' (not imported by mixednb)
    names = [n for _, n, _ in public]
    assert len(names) > 50 and "parametricbootstrap" in names and "caterpillar" in names
    assert not [n for n in names if n not in listed], [n for n in names if n not in listed]
    exported = {o for _, _, o in public if isinstance(o, type)}
    for cls in ("MixedModel", "LinearMixedModel", "GeneralizedLinearMixedModel", "BootstrapResult", "LikelihoodRatioTest"):
        c = getattr(mixednb, cls)
        for nm, kind, _, _ in build_docs.members(c):   # listed under the exported class that defines it
            owner = next(k for k in c.__mro__ if nm in vars(k))
            where = owner.__name__ if owner in exported else cls
            assert f"{where}.{nm}" in listed, f"{cls}.{nm} not in the reference (as {where}.{nm})"
    assert 'href="#ref-MixedModel"' in s and 'id="ref-MixedModel"' in s   # LinearMixedModel's inherited members
    assert listed["MixedModel.sigma"][0] == "member" and "property" in re.search(
        r'<code>MixedModel.sigma</code></a>(.*?)</td>', s, flags=re.S)[1]
    assert "σ" in re.search(r'<code>MixedModel.sigma</code></a>(.*?)</td>', s, flags=re.S)[1]  # its Greek alias
    assert listed["fit"][1] == "api.html#fit" and listed["fit"][2].strip()
    assert not [x for x in signatures(s) if BAD_SIGNATURE.search(x)]


def test_real_signatures_clean(site):
    bad = [(p.name, x.split("\n")[0]) for p in html_pages(site) for x in signatures(p.read_text()) if BAD_SIGNATURE.search(x)]
    assert not bad, bad[:20]
    assert not [p.name for p in html_pages(site) if "<strong>repr</strong>" in p.read_text()]


def test_real_search_index(site):
    idx = search_index(site)
    assert {e[0] for e in idx} == set(real_pages())
    assert any(e[0] == "inference.html" and e[2] == "parametricbootstrap" for e in idx)


# ---------------------------------------------------------------------------------------------
# In the browser

def chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name): return shutil.which(name)
    return None


def needs_chromium(f):
    "Browser checks fail without Chromium, unless MIXEDNB_DOCS_NO_BROWSER=1 outside CI"
    skip = chromium() is None and os.environ.get("MIXEDNB_DOCS_NO_BROWSER") == "1" and not os.environ.get("CI")
    return pytest.mark.skipif(skip, reason="Chromium not found and MIXEDNB_DOCS_NO_BROWSER=1")(f)


PROBE_JS = r"""
<script>
window.addEventListener("load", function () {
  (document.fonts ? document.fonts.ready : Promise.resolve()).then(function () {
    return window.__mixednbAction ? window.__mixednbAction() : null;
  }).then(function (action) {
    var skip = ["PRE", "CODE", "SCRIPT", "STYLE", "TEXTAREA"];
    var root = document.getElementById("content") || document.body;
    var w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, { acceptNode: function (n) {
      for (var e = n.parentElement; e; e = e.parentElement)
        if (skip.indexOf(e.tagName) >= 0 || e.classList.contains("katex")) return NodeFilter.FILTER_REJECT;
      return NodeFilter.FILTER_ACCEPT; } });
    var text = "";
    while (w.nextNode()) text += w.currentNode.nodeValue;
    var fonts = [];
    if (document.fonts) document.fonts.forEach(function (f) { if (f.family.indexOf("KaTeX") >= 0) fonts.push(f.status); });
    function visible(e) { var r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; }
    var clipped = [];
    document.querySelectorAll("#content pre, #content table, #content .katex-display, #content img, #content .table-wrap").forEach(function (e) {
      if (e.scrollWidth <= e.clientWidth + 1) {  // fits; or does its box stick out of the content column?
        var r = e.getBoundingClientRect(), c = root.getBoundingClientRect();
        if (r.right > Math.max(c.right, window.innerWidth) + 1) {
          for (var p = e.parentElement; p && p !== root; p = p.parentElement) {
            var o = getComputedStyle(p).overflowX;
            if ((o === "auto" || o === "scroll") && p.getBoundingClientRect().right <= window.innerWidth + 1) return;
          }
          clipped.push(e.tagName + ": sticks out " + Math.round(r.right - window.innerWidth) + "px");
        }
        return;
      }
      var s = getComputedStyle(e).overflowX;   // wider than its box: it must scroll
      if (s !== "auto" && s !== "scroll") {
        for (var q = e.parentElement; q && q !== root; q = q.parentElement) {
          var t = getComputedStyle(q).overflowX;
          if (t === "auto" || t === "scroll") return;
        }
        clipped.push(e.tagName + "." + e.className + ": " + e.scrollWidth + " > " + e.clientWidth);
      }
    });
    var title = document.querySelector("h1.title");
    var res = {
      math: document.documentElement.getAttribute("data-math"),
      nmath: document.querySelectorAll("span.math").length,
      nkatex: document.querySelectorAll("span.math > .katex, span.math > .katex-display").length,
      errors: Array.prototype.map.call(document.querySelectorAll(".katex-error"), function (e) { return e.title || e.textContent; }).slice(0, 5),
      raw: (text.match(/\$\$[\s\S]+?\$\$|\$[^\s$](?:[^$\n]*[^\s$])?\$|\\\(|\\\[/g) || []).slice(0, 5),
      images: Array.prototype.map.call(document.querySelectorAll("#content img"), function (i) {
        return [i.getAttribute("src"), i.complete && i.naturalWidth > 0, Math.round(i.getBoundingClientRect().width)]; }),
      sidebar: document.querySelectorAll("#sidebar ol.pages a").length,
      sidebar_visible: Array.prototype.filter.call(document.querySelectorAll("#sidebar ol.pages a"), visible).length,
      title: title ? title.textContent : "",
      title_top: title ? Math.round(title.getBoundingClientRect().top) : -1,
      first_text_top: (function () { var p = document.querySelector("#content .cell p, #content .cell-output");
                                     return p ? Math.round(p.getBoundingClientRect().top) : -1; })(),
      outputs: Array.prototype.filter.call(document.querySelectorAll("#content .cell-output"), visible).length,
      signatures: Array.prototype.map.call(document.querySelectorAll(".cell-output-markdown .highlight pre"),
                                           function (e) { return e.textContent; }),
      headings: Array.prototype.map.call(document.querySelectorAll("#content h3, #content h4"), function (e) { return e.innerHTML; }),
      inner_width: window.innerWidth,
      page_width: document.documentElement.scrollWidth,
      clipped: clipped.slice(0, 10),
      fonts_loaded: fonts.filter(function (s) { return s === "loaded"; }).length,
      fonts_failed: fonts.filter(function (s) { return s === "error"; }).length,
      action: action
    };
    var pre = document.createElement("pre");
    pre.id = "mixednb-check";
    pre.textContent = JSON.stringify(res);
    document.body.appendChild(pre);
    if (window.parent !== window) window.parent.postMessage(pre.textContent, "*");
  });
});
</script>
"""

# Headless Chromium's window is at least 500 px wide: a phone's width is a frame of that size in a wrapper page
FRAME_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe src="%s" style="width:%dpx;height:%dpx;border:0"></iframe>
<script>window.addEventListener("message", function (e) { var pre = document.createElement("pre");
  pre.id = "mixednb-check"; pre.textContent = e.data; document.body.appendChild(pre); });</script></body></html>
"""

# Type a query into the search box, as a reader does, and report the results it lists
SEARCH_JS = r"""
<script>
window.__mixednbAction = function () {
  return new Promise(function (resolve) {
    var input = document.getElementById("search-input");
    input.focus();
    input.value = "%s";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    var tries = 0;
    (function poll() {
      var links = document.querySelectorAll("#search-results a");
      if (links.length || tries++ > 50) {
        resolve(Array.prototype.map.call(links, function (a) { return [a.getAttribute("href"), a.textContent,
                a.getBoundingClientRect().height > 0]; }));
      } else setTimeout(poll, 100);
    })();
  });
};
</script>
"""

# Open the sidebar on a narrow screen with its button, and report what is visible then
TOGGLE_JS = r"""
<script>
window.__mixednbAction = function () {
  var before = Array.prototype.filter.call(document.querySelectorAll("#sidebar ol.pages a"),
                                           function (a) { return a.getBoundingClientRect().height > 0; }).length;
  document.getElementById("nav-toggle").click();
  var after = Array.prototype.filter.call(document.querySelectorAll("#sidebar ol.pages a"),
                                          function (a) { return a.getBoundingClientRect().height > 0; }).length;
  return Promise.resolve([before, after]);
};
</script>
"""


def chrome(args: list, tmp: Path) -> subprocess.CompletedProcess:
    exe = chromium()
    assert exe, ("Chromium not found: the docs are checked in a browser (Debian: apt-get install chromium; "
                 ".ci/run installs it). Set MIXEDNB_DOCS_NO_BROWSER=1 to skip these checks outside CI.")
    cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'chromium-profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def browse(page: Path, tmp: Path, size=(1280, 1000), action: str = "") -> dict:
    "What the page shows once loaded in Chromium at `size` (a copy with a probe script beside it)"
    probe = page.with_name(f"_probe_{page.name}")
    probe.write_text(page.read_text().replace("</body>", action + PROBE_JS + "</body>"))
    frame = page.with_name(f"_probe_frame_{page.name}")
    if size[0] < 500: frame.write_text(FRAME_HTML % (probe.name, size[0], size[1]))
    url = (frame if size[0] < 500 else probe).as_uri()
    try:
        r = chrome([f"--window-size={max(size[0], 500)},{size[1]}", "--virtual-time-budget=15000", "--dump-dom", url], tmp)
    finally:
        probe.unlink(); frame.unlink(missing_ok=True)
    m = re.search(r'<pre id="mixednb-check">(.*?)</pre>', r.stdout, flags=re.S)
    assert m, f"{page.name}: the probe reported nothing (exit {r.returncode}):\n{r.stderr[-3000:]}"
    return json.loads(html.unescape(m[1]))


def assert_renders(res: dict, name: str, npages: int):
    assert res["sidebar"] == npages, f"{name}: sidebar has {res['sidebar']} links, expected {npages}"
    assert res["title"], f"{name}: no title"
    assert not res["errors"], f"{name}: KaTeX could not typeset: {res['errors']}"
    assert not res["raw"], f"{name}: raw TeX left in the text: {res['raw']}"
    assert res["nkatex"] == res["nmath"], f"{name}: {res['nmath']} math spans, {res['nkatex']} typeset"
    if res["nmath"]:
        assert res["math"] == "done", f"{name}: math status {res['math']}"
        assert res["fonts_loaded"] > 0 and res["fonts_failed"] == 0, f"{name}: KaTeX fonts {res}"
    bad = [src for src, ok, _ in res["images"] if not ok]
    assert not bad, f"{name}: images that did not load: {bad}"
    narrow = [(src, w) for src, ok, w in res["images"] if w < 400]
    assert not narrow, f"{name}: figures narrower than 400 px: {narrow}"
    sigs = [s.split("\n")[0] for s in res["signatures"] if BAD_SIGNATURE.search(s)]
    assert not sigs, f"{name}: signatures with module prefixes, NoneType or private defaults: {sigs}"
    assert not [h for h in res["headings"] if "<strong>" in h], f"{name}: a heading renders bold: {res['headings']}"
    assert not res["clipped"], f"{name}: clipped content: {res['clipped']}"
    assert res["page_width"] <= res["inner_width"], f"{name}: the page scrolls sideways ({res['page_width']} px)"


@needs_chromium
def test_browser_synthetic_site(synth, tmp_path):
    res = browse(synth / "demo.html", tmp_path)
    assert_renders(res, "demo.html", 5)
    assert res["nmath"] == 7 and res["images"] and all(ok for _, ok, _ in res["images"]), res
    assert res["sidebar_visible"] == 5
    home = browse(synth / "index.html", tmp_path)
    assert_renders(home, "index.html", 5)
    assert home["nmath"] == 1
    for name in ("guide/start.html", "guide/more.html"):
        g = browse(synth / name, tmp_path)
        assert_renders(g, name, 5)
        assert g["outputs"] >= 1, f"{name}: no output shown"


@needs_chromium
def test_browser_screenshot(synth, tmp_path):
    "A screenshot of the page with math and a plot; MIXEDNB_DOCS_SCREENSHOT=path keeps a copy to look at"
    shot = tmp_path / "demo.png"
    r = chrome(["--hide-scrollbars", "--window-size=1280,1400", "--virtual-time-budget=15000",
                f"--screenshot={shot}", (synth / "demo.html").as_uri()], tmp_path)
    assert shot.is_file(), f"no screenshot (exit {r.returncode}):\n{r.stderr[-3000:]}"
    import matplotlib.image as mpimg
    img = mpimg.imread(shot)
    assert img.shape[:2] == (1400, 1280)
    assert img[..., :3].std() > 0.05, "the screenshot is blank"
    if os.environ.get("MIXEDNB_DOCS_SCREENSHOT"): shutil.copy(shot, os.environ["MIXEDNB_DOCS_SCREENSHOT"])


@needs_chromium
def test_browser_every_page(site, tmp_path):
    pages = real_pages()
    failures = []
    for name in pages:
        try:
            res = browse(site / name, tmp_path)
            assert_renders(res, name, len(pages))
            if name.startswith(build_docs.GUIDE + "/"):
                assert res["outputs"] >= 1, f"{name}: a guide page that shows no output"
        except AssertionError as e: failures.append(str(e))
    assert not failures, "\n".join(failures)


@needs_chromium
def test_browser_search_from_home(site, tmp_path):
    res = browse(site / "index.html", tmp_path, action=SEARCH_JS % "parametricbootstrap")
    hits = res["action"]
    assert hits, "the search box found nothing for parametricbootstrap"
    assert hits[0][0] == "inference.html#parametricbootstrap" and hits[0][2], hits[:3]
    none = browse(site / "index.html", tmp_path, action=SEARCH_JS % "zzqqxxnotaword")
    assert none["action"] == []


@needs_chromium
def test_browser_phone_width(site, synth, tmp_path):
    "At phone width the sidebar folds into a button: the title and the text are on the first screen"
    for folder, name in ((site, "lmm.html"), (site, "index.html"), (synth, "demo.html")):
        res = browse(folder / name, tmp_path, size=(390, 844))
        assert res["inner_width"] <= 400, res["inner_width"]
        assert res["sidebar_visible"] == 0, f"{name}: the page list fills the phone screen"
        assert 0 <= res["title_top"] < 300, f"{name}: the title starts at {res['title_top']} px"
        assert 0 <= res["first_text_top"] < 844, f"{name}: no content on the first screen ({res['first_text_top']} px)"
        assert not res["clipped"], f"{name}: clipped at phone width: {res['clipped']}"
        assert res["page_width"] <= res["inner_width"], f"{name}: the page scrolls sideways ({res['page_width']} px)"
    before, after = browse(site / "lmm.html", tmp_path, size=(390, 844), action=TOGGLE_JS)["action"]
    assert before == 0 and after == len(real_pages()), (before, after)
