#!/usr/bin/env python
"""Build mixednb's documentation site from `nbs/` without Quarto.

    python tools/build_docs.py [--out _docs] [--nbs nbs] [--workers 2]

Each notebook goes through nbdev's own docs pipeline (`nbdev.processors.FilterDefaults`, run the way
`nbdev-docs` runs it, one worker process per notebook at a time): `#| hide` and `#| export` cells are
dropped, `#| exports` cells shown, `show_doc` cells inserted after exported definitions and executed
together with the exported and import cells, the title cell turned into front matter and backticked
names linked. What nbdev leaves for Quarto, this script renders itself: the Quarto cell options
(`echo`, `output`, `include`, `code-fold`), markdown (nbconvert's mistune renderer, which keeps math
intact), outputs (HTML, PNG/JPEG/SVG figures written to `<page>_files/`, text, tracebacks), and a page
template with a sidebar listing every page in notebook order.

Math is marked up as `<span class="math inline|display">` at build time and typeset in the browser by
the KaTeX shipped in `tools/katex/` (copied into the site), so pages need no network.
`index.ipynb` becomes `index.html`, `07_lmm.ipynb` becomes `lmm.html` (nbdev's `nbpath2html`), so the
links nbdev writes (`lmm.html#fit`) resolve inside the site.
"""
from __future__ import annotations

import argparse, base64, html, os, re, shutil, tempfile, time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
MARKER = ".mixednb-docs"  # marks a folder this script wrote, so a rebuild may replace it
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}


# ---------------------------------------------------------------------------------------------
# nbdev's processing, in worker processes

def notebooks(nbs: Path) -> list[Path]:
    "Notebooks under `nbs` in nbdev's sidebar order (index first, then by path), skipping `_`/`.` names"
    from nbdev.doclinks import nbglob
    files = [Path(f) for f in nbglob(nbs, file_glob="*.ipynb")]
    def key(p):
        rel = p.relative_to(nbs)
        return rel.parent.parts, p.name != "index.ipynb", p.name
    return sorted(files, key=key)


def process_notebooks(files: list[Path], proc_dir: Path, workers: int) -> list[Path]:
    "Processed copies of `files` in `proc_dir` (nbdev's `serve_drv.main`, as `nbdev-docs` runs it)"
    import nbdev.serve_drv
    from nbdev.processors import FilterDefaults
    jobs = [(f, proc_dir / f"{i:03d}.ipynb", FilterDefaults) for i, f in enumerate(files)]
    failed = []
    if workers <= 0:
        for j in jobs:
            try: nbdev.serve_drv.main(j)
            except Exception as e: failed.append((j[0], e))
    else:
        with ProcessPoolExecutor(max(1, min(workers, len(jobs))), mp_context=get_context("spawn")) as ex:
            futs = [(j[0], ex.submit(nbdev.serve_drv.main, j)) for j in jobs]
            for f, fut in futs:
                if (e := fut.exception()) is not None: failed.append((f, e))
    if failed:
        msg = "\n\n".join(f"--- {f.name}: {type(e).__name__}: {e}\n{_remote_tb(e)}" for f, e in failed)
        hint = ("\nThe docs build (like `nbdev-docs`) runs only exported cells, cells with an import and show_doc "
                "cells, each notebook in a fresh namespace: a cell that mixes an import with code needing other "
                "cells fails here. Keep imports in cells of their own (STYLE.md §4.5).")
        raise SystemExit(f"nbdev's docs processing failed for {len(failed)} notebook(s):\n{msg}{hint}")
    return [d for _, d, _ in jobs]


def _remote_tb(e: BaseException) -> str:
    "The worker's traceback that concurrent.futures attaches as the cause"
    c = e.__cause__
    return str(getattr(c, "tb", "") or "") if c is not None else ""


# ---------------------------------------------------------------------------------------------
# Markdown with math

def slugify(text: str) -> str:
    "Pandoc's (and so Quarto's) heading identifier: lower case, punctuation but `_-.` dropped, spaces to `-`"
    s = html.unescape(re.sub(r"<[^>]+>", "", text)).strip().lower()
    s = re.sub(r"[^\w\s.\-]", "", s)
    s = re.sub(r"\s+", "-", s)
    s = re.sub(r"^[^a-z_]+", "", s) if re.search(r"[a-z_]", s) else s
    return s or "section"


def _renderer_cls():
    from nbconvert.filters.markdown_mistune import IPythonRenderer

    class MathRenderer(IPythonRenderer):
        "nbconvert's renderer, with math as KaTeX targets and Quarto-style heading ids"
        def __init__(self, page):
            super().__init__(escape=False)
            self.page = page

        def block_math(self, body):
            return f'<span class="math display">\\[{self.escape_html(body.strip())}\\]</span>'

        def inline_math(self, body):
            if not body.strip() or body != body.strip():  # pandoc: `$ x$`, `$x $` are not math
                return self.escape_html(f"${body}$")
            return f'<span class="math inline">\\({self.escape_html(body)}\\)</span>'

        def latex_environment(self, name, body):
            name, body = self.escape_html(name), self.escape_html(body)
            return f'<span class="math display">\\begin{{{name}}}{body}\\end{{{name}}}</span>'

        def multiline_math(self, text):  # only older mistune
            return f'<span class="math display">{text}</span>'

        def heading(self, text, level, **attrs):
            hid = self.page.unique_id(slugify(text), api=self.page.in_showdoc)
            if level in (2, 3): self.page.toc.append((level, hid, re.sub(r"</?a\b[^>]*>", "", text)))
            return (f'<h{level} id="{hid}" class="anchored">{text}'
                    f'<a class="anchor-link" href="#{hid}" aria-label="link to this section">¶</a></h{level}>\n')

    return MathRenderer


_re_link_attrs = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)\{([^}\n]*)\}")
_re_fence_open = re.compile(r"^(:{3,})\s*(?:\{([^}]*)\}|([\w-]+))\s*$")
_re_fence_close = re.compile(r"^:{3,}\s*$")


def _attrs2html(attrs: str) -> str:
    "Pandoc attributes `{#id .cls key=\"v\"}` as HTML attributes"
    classes = re.findall(r"(?:^|\s)\.([\w-]+)", attrs)
    ids = re.findall(r"(?:^|\s)#([\w-]+)", attrs)
    kvs = re.findall(r'([\w-]+)=("[^"]*"|\S+)', attrs)
    out = [f'id="{ids[0]}"'] if ids else []
    if classes: out.append(f'class="{" ".join(classes)}"')
    for k, v in kvs:
        v = v.strip('"')
        if k == "style" and "float:right" in v.replace(" ", ""):
            out.append('class="source-link"'); continue
        out.append(f'{k}="{html.escape(v)}"')
    return " ".join(out)


def quarto_md(src: str) -> str:
    "Turn the Quarto-only markdown that nbdev writes (link attributes, fenced divs) into HTML mistune keeps"
    src = _re_link_attrs.sub(lambda m: f'<a href="{m[2]}" {_attrs2html(m[3])}>{m[1]}</a>', src)
    lines, depth = [], 0
    for line in src.split("\n"):
        if (m := _re_fence_open.match(line)):
            attrs = m[2] if m[2] is not None else f".{m[3]}"
            lines += ["", f"<div {_attrs2html(attrs)}>", ""]; depth += 1
        elif depth and _re_fence_close.match(line):
            lines += ["", "</div>", ""]; depth -= 1
        else: lines.append(line)
    return "\n".join(lines + ["", "</div>"] * depth)


# ---------------------------------------------------------------------------------------------
# Pages

def _showdoc_names(cell) -> list:
    "Symbol names of the show_doc headings in a processed cell's markdown output"
    if cell.cell_type != "code" or not re.search(r"^show_doc\(", cell.source, flags=re.M): return []
    out = []
    for o in cell.get("outputs", []):
        md = o.get("data", {}).get("text/markdown", "")
        out += re.findall(r"^#{1,6} (\S+)\s*$", "".join(md) if isinstance(md, list) else md, flags=re.M)
    return out


class Page:
    "One notebook's page: its processed notebook, title, output path and heading ids"
    def __init__(self, src: Path, proc: Path, nbs: Path):
        from fastcore.nbio import read_nb
        from nbdev.config import nbpath2html
        self.src, self.nb = src, read_nb(proc)
        self.rel = nbpath2html(src.relative_to(nbs))           # e.g. lmm.html, sub/x.html
        self.root = "../" * (len(self.rel.parts) - 1)          # from this page to the site root
        self.files = self.rel.with_name(self.rel.stem + "_files")
        self.fm, self.ids, self.toc, self.in_showdoc = {}, set(), [], False
        cells = list(self.nb.cells)
        if cells and cells[0].cell_type == "raw":
            import yaml
            m = re.match(r"^---\s*\n(.*?)\n---\s*$", cells[0].source.strip(), flags=re.S)
            if m: self.fm = yaml.safe_load(m[1]) or {}; cells = cells[1:]
        self.cells = cells
        self.api_ids = {slugify(m) for c in cells for m in _showdoc_names(c)}  # reserved for the API docs
        self.title = str(self.fm.get("title") or src.stem)
        self.description = str(self.fm.get("description") or "")

    def unique_id(self, hid, api=False):
        "A heading id not used yet on the page; a symbol's show_doc heading gets its plain name (nbdev links to it)"
        if api and hid in self.api_ids and hid not in self.ids:
            self.ids.add(hid); return hid
        base, i = hid, 0
        while hid in self.ids or (hid in self.api_ids and not api): i += 1; hid = f"{base}-{i}"
        self.ids.add(hid)
        return hid


class SiteBuilder:
    def __init__(self, out: Path, site_url: str, site_title: str, description: str):
        from pygments.formatters import HtmlFormatter
        self.out, self.site_url, self.site_title, self.description = out, site_url.rstrip("/") + "/", site_title, description
        self.formatter = HtmlFormatter()
        self.Renderer = _renderer_cls()

    # -- markdown and links
    def md(self, page: Page, src: str) -> str:
        from nbconvert.filters.markdown_mistune import MarkdownWithMath
        res = MarkdownWithMath(renderer=self.Renderer(page)).render(quarto_md(src))
        return self.local_links(page, res)

    def local_links(self, page: Page, s: str) -> str:
        "Links nbdev wrote to the hosted site (`{doc_host}{doc_baseurl}/x.html#y`) made relative"
        return s.replace(f'href="{self.site_url}', f'href="{page.root}')

    # -- code cells
    def code_input(self, cell) -> str:
        from pygments import highlight
        from pygments.lexers import get_lexer_by_name, PythonLexer
        from pygments.util import ClassNotFound
        try: lexer = get_lexer_by_name(cell.get("metadata", {}).get("language", "python"))
        except ClassNotFound: lexer = PythonLexer()
        return f'<div class="sourceCode cell-code">{highlight(cell.source, lexer, self.formatter)}</div>'

    def figure(self, page: Page, data: str, ext: str, name: str) -> str:
        path = self.out / page.files / "figure-html" / f"{name}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return (page.files / "figure-html" / path.name).as_posix()

    def output(self, page: Page, o, cell_i: int, out_j: int, asis: bool) -> str:
        from nbconvert.filters.ansi import ansi2html
        def text(v): return "".join(v) if isinstance(v, list) else str(v)
        t = o.get("output_type")
        if t == "stream":
            cls = "cell-output-stdout" if o.get("name") == "stdout" else "cell-output-stderr"
            return f'<div class="cell-output {cls}"><pre>{ansi2html(text(o.get("text", "")))}</pre></div>'
        if t == "error":
            tb = ansi2html("\n".join(o.get("traceback", [])) or f'{o.get("ename")}: {o.get("evalue")}')
            return f'<div class="cell-output cell-output-error"><pre>{tb}</pre></div>'
        data, meta = o.get("data", {}), o.get("metadata", {})
        order = ["text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown", "text/latex", "text/plain"]
        if asis: order.remove("text/markdown"); order.insert(0, "text/markdown")
        mime = next((m for m in order if m in data), None)
        if mime is None: return ""
        v = text(data[mime])
        if mime == "text/markdown":
            page.in_showdoc = asis
            try: body = self.md(page, v)
            finally: page.in_showdoc = False
        elif mime == "text/html":
            body = self.local_links(page, v)
        elif mime == "image/svg+xml":
            body = v
        elif mime in ("image/png", "image/jpeg"):
            ext = "png" if mime == "image/png" else "jpg"
            src = self.figure(page, v, ext, f"cell-{cell_i}-output-{out_j}")
            m = meta.get(mime, {}) if isinstance(meta.get(mime), dict) else {}
            size = "".join(f' {k}="{int(m[k])}"' for k in ("width", "height") if k in m)
            alt = html.escape(text(data.get("text/plain", "figure")).strip()[:200], quote=True)
            body = f'<img src="{src}" alt="{alt}"{size}>'
        elif mime == "text/latex":
            body = self.md(page, v)
        else:
            body = f"<pre>{ansi2html(v)}</pre>"
        wrap = "cell-output-markdown" if mime == "text/markdown" else "cell-output-display"
        return f'<div class="cell-output {wrap}">{body}</div>'

    def code_cell(self, page: Page, cell, i: int) -> str:
        opts = dict(cell.directives)
        cell.remove_directives()
        if opts.get("include", "").lower() == "false": return ""
        parts = []
        if opts.get("echo", "").lower() != "false" and cell.source.strip():
            code = self.code_input(cell)
            fold = opts.get("code-fold", "").lower()
            if fold in ("", "true", "show") and "code-fold" in opts:
                summary = html.escape(opts.get("code-summary", "Code").strip("\"'"))
                code = f'<details class="code-fold"{" open" if fold == "show" else ""}><summary>{summary}</summary>{code}</details>'
            parts.append(code)
        if opts.get("output", "").lower() != "false":
            asis = opts.get("output", "").lower() == "asis"
            parts += [self.output(page, o, i, j, asis) for j, o in enumerate(cell.get("outputs", []))]
        parts = [p for p in parts if p]
        if not parts: return ""
        return f'<div class="cell">{"".join(parts)}</div>'

    def cell(self, page: Page, cell, i: int) -> str:
        if cell.cell_type == "markdown":
            cell.remove_directives()  # markdown `#| export` reaches here as a `#| export: true` line
            return f'<div class="cell markdown">{self.md(page, cell.source)}</div>'
        if cell.cell_type == "code": return self.code_cell(page, cell, i)
        fmt = cell.get("metadata", {}).get("format", cell.get("metadata", {}).get("raw_mimetype", ""))
        return cell.source if fmt in ("text/html", "html") else ""

    # -- the page template
    def sidebar(self, page: Page, pages: list[Page]) -> str:
        items = []
        for p in pages:
            active = ' class="active" aria-current="page"' if p is page else ""
            items.append(f'<li><a href="{page.root}{p.rel.as_posix()}"{active}>{html.escape(p.title)}</a></li>')
        return (f'<nav id="sidebar" aria-label="Pages"><a class="site-title" href="{page.root}index.html">'
                f'{html.escape(self.site_title)}</a><ol class="pages">{"".join(items)}</ol></nav>')

    def toc(self, page: Page) -> str:
        if not page.toc: return ""
        items = "".join(f'<li class="toc-h{lv}"><a href="#{hid}">{t}</a></li>' for lv, hid, t in page.toc)
        return f'<nav id="toc" aria-label="On this page"><h2>On this page</h2><ul>{items}</ul></nav>'

    def render(self, page: Page, pages: list[Page]) -> str:
        body = "\n".join(h for h in (self.cell(page, cell, i) for i, cell in enumerate(page.cells)) if h)
        desc = f'<div class="description">{self.md(page, page.description)}</div>' if page.description else ""
        r = page.root
        head_title = page.title if page.title == self.site_title else f"{page.title} – {self.site_title}"
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mixednb tools/build_docs.py (nbdev processors, nbconvert markdown, KaTeX)">
<title>{html.escape(head_title)}</title>
<link rel="stylesheet" href="{r}assets/katex/katex.min.css">
<link rel="stylesheet" href="{r}assets/pygments.css">
<link rel="stylesheet" href="{r}assets/site.css">
<link rel="stylesheet" href="{r}styles.css">
<script defer src="{r}assets/katex/katex.min.js"></script>
<script defer src="{r}assets/site.js"></script>
</head>
<body>
{self.sidebar(page, pages)}
<main id="content">
<header id="title-block-header"><h1 class="title">{html.escape(page.title)}</h1>{desc}</header>
{body}
</main>
{self.toc(page)}
</body>
</html>
"""

    def contents_page(self, pages: list[Page]) -> str:
        "A home page listing the chapters, used only when there is no `index.ipynb`"
        items = "".join(f'<li><a href="{p.rel.as_posix()}">{html.escape(p.title)}</a>'
                        f'{" — " + html.escape(p.description) if p.description else ""}</li>' for p in pages)
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(self.site_title)}</title>
<link rel="stylesheet" href="assets/site.css"><link rel="stylesheet" href="styles.css"></head>
<body><nav id="sidebar" aria-label="Pages"><a class="site-title" href="index.html">{html.escape(self.site_title)}</a>
<ol class="pages">{"".join(f'<li><a href="{p.rel.as_posix()}">{html.escape(p.title)}</a></li>' for p in pages)}</ol></nav>
<main id="content"><header id="title-block-header"><h1 class="title">{html.escape(self.site_title)}</h1>
<div class="description"><p>{html.escape(self.description)}</p></div></header><ol>{items}</ol></main></body></html>
"""

    def assets(self, nbs: Path):
        from pygments.formatters import HtmlFormatter
        a = self.out / "assets"
        shutil.copytree(TOOLS / "katex", a / "katex", ignore=shutil.ignore_patterns("README.md"))
        shutil.copy2(TOOLS / "site" / "site.css", a / "site.css")
        shutil.copy2(TOOLS / "site" / "site.js", a / "site.js")
        (a / "pygments.css").write_text(HtmlFormatter().get_style_defs(".highlight"))
        styles = nbs / "styles.css" if (nbs / "styles.css").exists() else ROOT / "nbs" / "styles.css"
        (self.out / "styles.css").write_text(styles.read_text() if styles.exists() else "")
        for f in nbs.rglob("*"):  # images that markdown cells refer to by relative path
            rel = f.relative_to(nbs)
            if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES and not any(p[0] in "_." for p in rel.parts):
                (self.out / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, self.out / rel)


def _prepare_out(out: Path):
    if out.exists():
        if out.is_dir() and ((out / MARKER).exists() or not any(out.iterdir())): shutil.rmtree(out)
        else: raise SystemExit(f"{out} exists and was not written by build_docs.py; remove it or choose another --out")
    out.mkdir(parents=True)
    (out / MARKER).write_text("Written by tools/build_docs.py; rebuilt from scratch on every run.\n")
    (out / ".nojekyll").write_text("")


def build(out: Path, nbs: Path | None = None, workers: int = 2, quiet: bool = False) -> list[Path]:
    "Build the site into `out`; the HTML pages written, one per notebook (plus a contents page if no index)"
    from nbdev.config import get_config
    cfg = get_config()
    nbs = Path(nbs or cfg.nbs_path).resolve()
    files = notebooks(nbs)
    if not files: raise SystemExit(f"no notebooks found in {nbs}")
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="mixednb-docs-") as tmp:
        procs = process_notebooks(files, Path(tmp), workers)
        pages = [Page(f, p, nbs) for f, p in zip(files, procs)]
    _prepare_out(out)
    sb = SiteBuilder(out, f"{cfg.doc_host}{cfg.doc_baseurl}", str(cfg.get("title", cfg.lib_name)), str(cfg.get("description", "")))
    sb.assets(nbs)
    written = []
    for page in pages:
        dst = out / page.rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(sb.render(page, pages), encoding="utf-8")
        written.append(dst)
    if not any(p.rel.as_posix() == "index.html" for p in pages):
        (out / "index.html").write_text(sb.contents_page(pages), encoding="utf-8")
    if not quiet:
        print(f"build_docs: {len(pages)} pages from {nbs} written to {out} in {time.time() - t0:.1f}s")
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=None, help="output folder (default: doc_path from pyproject, `_docs`)")
    ap.add_argument("--nbs", default=None, help="notebook folder (default: nbs_path from pyproject, `nbs`)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                    help="worker processes for nbdev's processing (0: in this process)")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve() if args.out else None
    nbs = Path(args.nbs).resolve() if args.nbs else None
    os.chdir(ROOT)  # nbdev reads its settings from the project's pyproject.toml, found from the cwd
    from nbdev.config import get_config
    build(out or get_config().doc_path, nbs, args.workers)


if __name__ == "__main__":
    main()
