"""The docs site: `tools/build_docs.py` writes a page per notebook, and headless Chromium shows it typeset.

Two sites are built into temporary folders: the real one from `nbs/`, and a small synthetic one whose
notebooks hold every case the builder must handle (math inline, displayed and in an environment, a
saved PNG figure, `#| hide`, `#| export`, `#| exports`, `#| echo: false`, a `show_doc` with docments).
The static checks always run; the browser checks need Chromium (Debian's `chromium`, which `.ci/run`
installs) and skip with the reason where it is missing.
"""
import base64, html, io, json, os, re, shutil, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "tools" / "build_docs.py"
sys.path.insert(0, str(ROOT / "tools"))
import build_docs  # noqa: E402  (notebook order and page names, the same as the builder uses)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-dev-shm-usage"]  # containers often have a tiny /dev/shm


def run_build(out: Path, nbs: Path | None = None):
    cmd = [sys.executable, str(BUILD), "--out", str(out)] + (["--nbs", str(nbs)] if nbs else [])
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, f"build_docs.py failed ({r.returncode}):\n{r.stdout}\n{r.stderr[-8000:]}"
    return out


def page_name(nb: Path, nbs: Path) -> str:
    from nbdev.config import nbpath2html
    return nbpath2html(nb.relative_to(nbs)).as_posix()


def sidebar_links(page: Path) -> list:
    nav = re.search(r'<ol class="pages">(.*?)</ol>', page.read_text(), flags=re.S)
    assert nav, f"{page.name}: no sidebar"
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]*)</a>', nav[1])


# ---------------------------------------------------------------------------------------------
# The synthetic notebooks

def _png() -> str:
    "A small line plot as base64 PNG, as Jupyter saves it"
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 2.5), dpi=80)
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


def synthetic_nbs(folder: Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
    folder.mkdir(parents=True)
    def save(name, cells):
        nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
        for i, c in enumerate(nb.cells): c["id"] = f"c{i:03d}"
        nbformat.write(nb, folder / name)
    save("index.ipynb", [new_markdown_cell("# Demo home\n> The synthetic site of the docs test"),
                         new_markdown_cell("Welcome: $e^{i\\pi}+1=0$.")])
    save("01_demo.ipynb", [
        new_code_cell("#| default_exp demo"),
        new_markdown_cell("# Demo chapter\n> Math, a plot and API docs for the docs test"),
        new_code_cell('#| export\ndef circle_area(r:float, # the radius\n               )->float:\n'
                      '    "Area πr² of a circle of radius `r`"\n    return 3.14159*r*r'),
        new_markdown_cell(MATH_MD),
        new_code_cell("#| hide\nHIDDEN_CELL_MARKER = 1"),
        new_code_cell("fig  # a saved figure", outputs=[new_output(
            "display_data", data={"image/png": _png(), "text/plain": "<Figure size 320x200 with 1 Axes>"})]),
        new_code_cell('#| echo: false\nprint("ECHO_FALSE_OUTPUT")',
                      outputs=[new_output("stream", name="stdout", text="ECHO_FALSE_OUTPUT\n")]),
        new_markdown_cell("#| export\nA module summary, MARKDOWN_EXPORT_MARKER, that `help(mixednb.demo)` shows too."),
        new_code_cell('#| eval: false\nnever_run("EVAL_FALSE_MARKER")'),
        new_markdown_cell("## shown_source\n\nA section named like the symbol: the API docs keep the plain anchor."),
        new_code_cell('#| exports\ndef shown_source():\n    "Exported with its source shown"\n    return "SHOWN_SOURCE_MARKER"'),
    ])
    save("02_second.ipynb", [new_markdown_cell("# Second chapter\n> Ordering"), new_markdown_cell("Nothing else.")])
    save("_scratch.ipynb", [new_markdown_cell("# Scratch")])
    return folder


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("synth")
    nbs = synthetic_nbs(tmp / "nbs")
    return run_build(tmp / "site", nbs)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return run_build(tmp_path_factory.mktemp("docs") / "site")


# ---------------------------------------------------------------------------------------------
# Static checks

def test_synthetic_pages_and_order(synth):
    test_names = [p.name for p in sorted(synth.glob("*.html"))]
    assert test_names == ["demo.html", "index.html", "second.html"], test_names
    links = sidebar_links(synth / "demo.html")
    assert links == [("index.html", "Demo home"), ("demo.html", "Demo chapter"), ("second.html", "Second chapter")]
    assert 'class="active"' in re.search(r'<a href="demo.html"[^>]*>', (synth / "demo.html").read_text())[0]


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
    for asset in ["assets/katex/katex.min.js", "assets/katex/katex.min.css", "assets/site.js", "styles.css",
                  "assets/katex/fonts/KaTeX_Main-Regular.woff2"]:
        assert (synth / asset).is_file(), asset
    assert "http" not in re.sub(r'<a [^>]*href="https?://[^"]*"', "", s.split("<main")[0])  # head loads nothing remote


def test_every_notebook_has_a_page(site):
    nbs = ROOT / "nbs"
    files = build_docs.notebooks(nbs)
    assert files, "no notebooks in nbs/"
    expected = [page_name(f, nbs) for f in files]
    for name in expected:
        assert (site / name).is_file(), f"no page {name}"
    for name in expected:
        hrefs = [h for h, _ in sidebar_links(site / name)]
        root = "../" * name.count("/")
        assert hrefs == [root + e for e in expected], f"{name}: sidebar {hrefs} != {expected}"
    assert (site / "index.html").is_file()


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


# ---------------------------------------------------------------------------------------------
# In the browser

def chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name): return shutil.which(name)
    return None


needs_chromium = pytest.mark.skipif(chromium() is None, reason="Chromium not found (Debian: apt-get install chromium; "
                                    ".ci/run installs it): browser checks of the docs site skipped")

CHECK_JS = r"""
<script>
window.addEventListener("load", function () {
  (document.fonts ? document.fonts.ready : Promise.resolve()).then(function () {
    var skip = ["PRE", "CODE", "SCRIPT", "STYLE", "TEXTAREA"];
    var root = document.body;
    var w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, { acceptNode: function (n) {
      for (var e = n.parentElement; e; e = e.parentElement)
        if (skip.indexOf(e.tagName) >= 0 || e.classList.contains("katex")) return NodeFilter.FILTER_REJECT;
      return NodeFilter.FILTER_ACCEPT; } });
    var text = "";
    while (w.nextNode()) text += w.currentNode.nodeValue;
    var fonts = [];
    if (document.fonts) document.fonts.forEach(function (f) { if (f.family.indexOf("KaTeX") >= 0) fonts.push(f.status); });
    var res = {
      math: document.documentElement.getAttribute("data-math"),
      nmath: document.querySelectorAll("span.math").length,
      nkatex: document.querySelectorAll("span.math > .katex, span.math > .katex-display").length,
      errors: Array.prototype.map.call(document.querySelectorAll(".katex-error"), function (e) { return e.title || e.textContent; }).slice(0, 5),
      raw: (text.match(/\$\$[\s\S]+?\$\$|\$[^\s$](?:[^$\n]*[^\s$])?\$|\\\(|\\\[/g) || []).slice(0, 5),
      images: Array.prototype.map.call(document.images, function (i) { return [i.getAttribute("src"), i.complete && i.naturalWidth > 0]; }),
      sidebar: document.querySelectorAll("#sidebar ol.pages a").length,
      title: (document.querySelector("h1.title") || {}).textContent || "",
      fonts_loaded: fonts.filter(function (s) { return s === "loaded"; }).length,
      fonts_failed: fonts.filter(function (s) { return s === "error"; }).length
    };
    var pre = document.createElement("pre");
    pre.id = "mixednb-check";
    pre.textContent = JSON.stringify(res);
    document.body.appendChild(pre);
  });
});
</script>
"""


def chrome(args: list, tmp: Path) -> subprocess.CompletedProcess:
    cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'chromium-profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def browse(page: Path, tmp: Path) -> dict:
    "What the page shows once loaded in Chromium: math, images, sidebar (a copy with a probe script beside it)"
    probe = page.with_name(f"_probe_{page.name}")
    probe.write_text(page.read_text().replace("</body>", CHECK_JS + "</body>"))
    try:
        r = chrome(["--virtual-time-budget=15000", "--dump-dom", probe.as_uri()], tmp)
    finally:
        probe.unlink()
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
    bad = [src for src, ok in res["images"] if not ok]
    assert not bad, f"{name}: images that did not load: {bad}"


@needs_chromium
def test_browser_synthetic_site(synth, tmp_path):
    res = browse(synth / "demo.html", tmp_path)
    assert_renders(res, "demo.html", 3)
    assert res["nmath"] == 7 and res["images"] and all(ok for _, ok in res["images"]), res
    home = browse(synth / "index.html", tmp_path)
    assert_renders(home, "index.html", 3)
    assert home["nmath"] == 1


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
    pages = [page_name(f, ROOT / "nbs") for f in build_docs.notebooks(ROOT / "nbs")]
    failures = []
    for name in pages:
        try: assert_renders(browse(site / name, tmp_path), name, len(pages))
        except AssertionError as e: failures.append(str(e))
    assert not failures, "\n".join(failures)
