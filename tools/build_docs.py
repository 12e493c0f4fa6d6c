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
links nbdev writes (`lmm.html#fit`) resolve inside the site; a notebook in `nbs/guide/` becomes
`guide/<name>.html`, and a relative link to a notebook (`[chapter 7](07_lmm.ipynb)`) is rewritten to its page,
as Quarto does.

The sidebar has the home page, then the sections "User's guide" (`nbs/guide/`), "How it works" (the numbered
chapters, with their numbers) and "API reference": `reference.html`, written from the package itself (every
name `mixednb/__init__.py` imports, `mixednb.plots` when it exists, and the public methods and properties of
the exported classes), each with its one-line docstring and a link to its show_doc entry.
Signatures are cleaned as a reader wants them (no `__main__.`/module prefixes, `None` not `NoneType`, `...`
for private sentinels and dataclass factories that are not short literals; properties marked), headings of
dunder methods keep their underscores, and nbdev's automatic links to names without an entry (private
helpers) are left as plain code. Every page gets previous/next links, and a search box that loads
`assets/search-index.js` (written at build time, a script rather than JSON so it works from `file://`).
"""
from __future__ import annotations

import argparse, ast, base64, dataclasses, html, importlib, inspect, json, os, posixpath, re, shutil, tempfile, time
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
        top = rel.parts[0] if len(rel.parts) > 1 else ""
        group = 0 if rel == Path("index.ipynb") else 1 if top == GUIDE else 2 if top == "" else 3
        return group, rel.parent.parts, p.name != "index.ipynb", p.name
    return sorted(files, key=key)


GUIDE = "guide"  # nbs/guide/: the user's guide, first in the sidebar


def section_of(rel: Path) -> str:
    "The sidebar section of a notebook (path relative to `nbs`): '' for the home page"
    if rel == Path("index.ipynb"): return ""
    if len(rel.parts) == 1: return "How it works"
    return "User's guide" if rel.parts[0] == GUIDE else rel.parts[0].replace("_", " ").capitalize()


def chapter_number(name: str) -> str:
    "`07_lmm.ipynb` → '7', `11a_gausshermite.ipynb` → '11a', `index.ipynb` → ''"
    m = re.match(r"^(\d+)([a-z]*)_", name)
    return f"{int(m[1])}{m[2]}" if m else ""


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
            badge, self.page.badge = self.page.badge, ""
            badge = f' <span class="sig-kind">{badge}</span>' if badge and self.page.in_showdoc else ""
            return (f'<h{level} id="{hid}" class="anchored">{text}{badge}'
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
        self.fm, self.ids, self.toc, self.in_showdoc, self.badge = {}, set(), [], False, ""
        rel_nb = src.relative_to(nbs)
        self.section, self.number = section_of(rel_nb), chapter_number(src.name)
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


# ---------------------------------------------------------------------------------------------
# The documented library: names, objects, entries

class Library:
    "The package the site documents: its show_doc anchors (`_modidx`) and the objects behind them"
    def __init__(self, lib: str):
        self.lib, self.mods, self.loc = lib, {}, {}
        try: syms = importlib.import_module(f"{lib}._modidx").d["syms"]
        except Exception: syms = {}
        for mod, entries in syms.items():
            for q, (loc, _) in entries.items():
                self.mods.setdefault(q[len(mod) + 1:], []).append(mod)
                self.loc[q] = loc

    def resolve(self, qual: str):
        "(owner, attribute as stored: a property stays a property) of a show_doc name like `MixedModel.sigma`"
        for mod in self.mods.get(qual, []):
            try:
                o, parts = importlib.import_module(mod), qual.split(".")
                for part in parts[:-1]: o = getattr(o, part)
                return o, inspect.getattr_static(o, parts[-1])
            except Exception: continue
        return None

    def entry(self, qual: str, mod: str | None = None):
        "The page and anchor (`lmm.html#fit`) of a name's show_doc entry, from any module that documents it"
        if mod and f"{mod}.{qual}" in self.loc: return self.loc[f"{mod}.{qual}"]
        return next((self.loc[f"{m}.{qual}"] for m in self.mods.get(qual, [])), None)


def _is_property(o) -> bool:
    from functools import cached_property
    return isinstance(o, (property, cached_property))


_re_sd_head = re.compile(r"^(#{1,6}) (\S+)[ \t]*$", flags=re.M)
_re_sd_sig = re.compile(r"^```python\n(.*?)\n```", flags=re.S | re.M)


def clean_signature(sig: str, lib: str = "mixednb", obj=None, owner=None, name: str = "") -> str:
    "A signature as a reader wants it: no module prefixes, `None` not `NoneType`, no private sentinels or factories"
    s = re.sub(r"\b__main__\.", "", sig)
    if name: s = re.sub(r"^def <lambda>\(", f"def {name}(", s)  # a property made by a function
    s = re.sub(rf"\b{re.escape(lib)}(?:\.[a-z_]\w*)*\.(?=[A-Za-z_])", "", s)
    s = re.sub(r"\bnumpy\.", "np.", s)
    s = re.sub(r"\bpandas(?:\.[a-z_]\w*)*\.(?=[A-Z])", "pd.", s)
    s = re.sub(r":NoneType=None\b", "=None", s)
    s = re.sub(r"\bNoneType\b", "None", s)
    s = re.sub(r":type=_[A-Za-z]\w*(?=[,)\s]|$)", "=...", s)  # docments' annotation from a sentinel class's type
    s = re.sub(r"=_[A-Za-z]\w*(?=[,)\s]|$)", "=...", s)  # a private sentinel (`_Unset`): "has a default"
    facts = {}
    if dataclasses.is_dataclass(obj) and isinstance(obj, type):
        for f in dataclasses.fields(obj):
            if f.default_factory is not dataclasses.MISSING:
                try: r = repr(f.default_factory())
                except Exception: r = "..."
                facts[f.name] = r if len(r) <= 24 else "..."
    s = re.sub(r"\b(\w+)((?::[^=,\n]*)?)=<factory>", lambda m: f"{m[1]}{m[2]}={facts.get(m[1], '...')}", s)
    if _is_property(obj):
        s = re.sub(r"^def (\w+)\(", r"@property\ndef \1(self", s, count=1)
    return s


def clean_showdoc(md: str, library: Library | None) -> tuple[str, str]:
    "nbdev's show_doc markdown with a clean signature and a literal heading; and the badge ('property' or '')"
    m = _re_sd_head.search(md)
    if not m: return md, ""
    qual = m[2]
    owner = obj = None
    if library is not None and (r := library.resolve(qual)): owner, obj = r
    lib = library.lib if library is not None else "mixednb"
    md = _re_sd_sig.sub(lambda g: "```python\n" + clean_signature(g[1], lib, obj, owner, qual.split(".")[-1]) + "\n```", md, count=1)
    md = md[:m.start()] + f"{m[1]} " + qual.replace("_", r"\_") + md[m.end():]  # `__repr__` is not bold "repr"
    return md, "property" if _is_property(obj) else ""


# ---------------------------------------------------------------------------------------------
# Pages

class Generated:
    "A page the builder writes itself (the API reference): what the template and the markdown renderer need"
    def __init__(self, rel: str, title: str, description: str, section: str, body: str = "", toc: list | None = None):
        self.rel, self.root, self.title, self.description = Path(rel), "", title, description
        self.section, self.number, self.body, self.toc = section, "", body, toc if toc is not None else []
        self.ids, self.api_ids, self.in_showdoc, self.badge = set(), set(), False, ""

    unique_id = Page.unique_id


def _text(h: str) -> str:
    "Plain text of an HTML fragment, for the search index"
    h = re.sub(r'<a class="anchor-link"[^>]*>.*?</a>', "", h, flags=re.S)
    h = re.sub(r"<(script|style)\b.*?</\1>", " ", h, flags=re.S)
    h = re.sub(r"<(?:br|/?p|/?div|/?li|/?h\d|/?tr|/?td|/?th|/?pre|/?table)\b[^>]*>", " ", h)  # blocks apart,
    h = re.sub(r"<[^>]+>", "", h)                                                          # inline tags away
    return re.sub(r"\s+", " ", html.unescape(h)).strip()


def search_entries(rel: str, title: str, body: str, limit: int = 1500) -> list:
    "[page, page title, anchor, heading, text] for the top of the page and each h1–h4 section"
    parts = re.split(r'(<h[1-4] id="[^"]+"[^>]*>.*?</h[1-4]>)', body, flags=re.S)
    out = [[rel, title, "", title, _text(parts[0])[:limit]]]
    for h, chunk in zip(parts[1::2], parts[2::2]):
        out.append([rel, title, re.search(r'id="([^"]+)"', h)[1], _text(h), _text(chunk)[:limit]])
    return out


class SiteBuilder:
    def __init__(self, out: Path, site_url: str, site_title: str, description: str, library: Library | None = None):
        from pygments.formatters import HtmlFormatter
        self.out, self.site_url, self.site_title, self.description = out, site_url.rstrip("/") + "/", site_title, description
        self.formatter = HtmlFormatter()
        self.Renderer = _renderer_cls()
        self.library = library

    # -- markdown and links
    def md(self, page: Page, src: str) -> str:
        from nbconvert.filters.markdown_mistune import MarkdownWithMath
        res = MarkdownWithMath(renderer=self.Renderer(page)).render(quarto_md(src))
        res = re.sub(r"<table>(.*?)</table>", r'<div class="table-wrap"><table>\1</table></div>', res, flags=re.S)
        return self.local_links(page, res)

    def local_links(self, page: Page, s: str) -> str:
        "Links nbdev wrote to the hosted site (`{doc_host}{doc_baseurl}/x.html#y`) made relative; `x.ipynb` to its page"
        from nbdev.config import nbpath2html
        s = s.replace(f'href="{self.site_url}', f'href="{page.root}')
        def nb(m): return f'href="{nbpath2html(Path(m[1] + ".ipynb")).as_posix()}{m[2] or ""}"'
        return re.sub(r'href="(?![a-z][a-z0-9+.-]*:)([^"#?]+)\.ipynb(#[^"]*)?"', nb, s)

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
        return (Path(page.files.name) / "figure-html" / path.name).as_posix()

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
            if asis and v.lstrip().startswith("---"): v, page.badge = clean_showdoc(v, self.library)
            try: body = self.md(page, v)
            finally: page.in_showdoc, page.badge = False, ""
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
    def sidebar(self, page, pages: list) -> str:
        items, section = [], ""
        for p in pages:
            if p.section and p.section != section:
                section = p.section
                items.append(f'<li class="section-title">{html.escape(section)}</li>')
            active = ' class="active" aria-current="page"' if p is page else ""
            num = f'<span class="num">{p.number}</span> ' if p.number else ""
            title = "Home" if p.rel.as_posix() == "index.html" else html.escape(p.title)
            items.append(f'<li><a href="{page.root}{p.rel.as_posix()}"{active}>{num}{title}</a></li>')
        return (f'<nav id="sidebar" aria-label="Pages">'
                f'<div class="sidebar-head"><a class="site-title" href="{page.root}index.html">{html.escape(self.site_title)}</a>'
                f'<button id="nav-toggle" type="button" aria-controls="nav-pages" aria-expanded="false" '
                f'aria-label="Show the list of pages">&#9776; Pages</button></div>'
                f'<div id="search"><input id="search-input" type="search" placeholder="Search…" autocomplete="off" '
                f'aria-label="Search the site"><ol id="search-results" aria-live="polite"></ol></div>'
                f'<div id="nav-pages"><ol class="pages">{"".join(items)}</ol></div></nav>')

    def toc(self, page) -> str:
        if not page.toc: return ""
        items = "".join(f'<li class="toc-h{lv}"><a href="#{hid}">{t}</a></li>' for lv, hid, t in page.toc)
        return f'<nav id="toc" aria-label="On this page"><h2>On this page</h2><ul>{items}</ul></nav>'

    def pager(self, page, pages: list) -> str:
        "Previous and next page, in sidebar order"
        i = next(k for k, p in enumerate(pages) if p is page)
        def link(p, cls, label):
            num = f'{p.number} ' if p.number else ""
            return (f'<a class="{cls}" rel="{cls}" href="{page.root}{p.rel.as_posix()}"><span class="label">{label}</span>'
                    f'<span class="page-title">{num}{html.escape(p.title)}</span></a>')
        prev = link(pages[i - 1], "prev", "← Previous") if i > 0 else "<span></span>"
        nxt = link(pages[i + 1], "next", "Next →") if i + 1 < len(pages) else "<span></span>"
        return f'<nav class="page-nav" aria-label="Previous and next page">{prev}{nxt}</nav>'

    def body(self, page: Page) -> str:
        return "\n".join(h for h in (self.cell(page, cell, i) for i, cell in enumerate(page.cells)) if h)

    def render(self, page, pages: list, body: str) -> str:
        desc = f'<div class="description">{self.md(page, page.description)}</div>' if page.description else ""
        r = page.root
        head_title = page.title if page.title == self.site_title else f"{page.title} – {self.site_title}"
        return f"""<!DOCTYPE html>
<html lang="en" data-root="{r}">
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
{self.pager(page, pages)}
</main>
{self.toc(page)}
</body>
</html>
"""

    def contents_body(self, pages: list) -> str:
        "The body of a home page listing the pages, used only when there is no `index.ipynb`"
        return "<ol>" + "".join(f'<li><a href="{p.rel.as_posix()}">{html.escape(p.title)}</a>'
                                f'{" — " + html.escape(p.description) if p.description else ""}</li>' for p in pages) + "</ol>"

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


# ---------------------------------------------------------------------------------------------
# The API reference page

def public_names(lib: str) -> list[tuple[str, str, object]]:
    "(module, name, object) of every name the package's `__init__.py` imports, then `plots`' `__all__`, in order"
    pkg = importlib.import_module(lib)
    tree = ast.parse(Path(pkg.__file__).read_text())
    out = []
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or node.level != 1: continue
        for a in node.names:
            nm = a.asname or a.name
            if nm.startswith("_"): continue
            mod = f"{lib}.{node.module}" if node.module else f"{lib}.{a.name}"
            out.append((mod, nm, getattr(pkg, nm)))
    try: plots = importlib.import_module(f"{lib}.plots")
    except ImportError: plots = None
    if plots is not None:
        have = {n for _, n, _ in out}
        out += [(plots.__name__, n, getattr(plots, n)) for n in getattr(plots, "__all__", []) if n not in have]
    return out


def _first_line(o) -> str:
    if isinstance(o, property) and o.__doc__: doc = inspect.cleandoc(o.__doc__)   # property(…, doc=…): aliases
    else: doc = inspect.getdoc(o.fget if isinstance(o, property) else getattr(o, "func", o)) or ""  # cached_property
    return doc.strip().split("\n")[0] if doc.strip() else ""


def _doc_html(s: str) -> str:
    "A one-line docstring as HTML: escaped, `code` kept"
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(s))


def members(cls) -> list[tuple[str, str, object, list]]:
    "(name, kind, attribute, aliases) of a class's public methods and properties written in the package"
    lib = cls.__module__.split(".")[0]
    seen, out, aliases = {}, [], {}
    for nm in sorted(dir(cls), key=lambda n: (not n.isascii(), n.lower())):
        if nm.startswith("_"): continue
        owner = next((k for k in cls.__mro__ if nm in vars(k)), None)
        if owner is None or not owner.__module__.startswith(lib): continue
        a = vars(owner)[nm]
        kind = ("property" if _is_property(a) else "classmethod" if isinstance(a, classmethod)
                else "staticmethod" if isinstance(a, staticmethod) else "method" if callable(a) else None)
        if kind is None: continue
        target = re.fullmatch(r"Alias of `(\w+)`", (a.__doc__ or "").strip()) if kind == "property" else None
        if target and target[1] != nm: aliases.setdefault(target[1], []).append(nm); continue
        if id(a) in seen: seen[id(a)][3].append(nm); continue  # the same object under a second name
        row = (nm, kind, a, aliases.setdefault(nm, []))
        seen[id(a)] = row
        out.append(row)
    return out


def _kind(o) -> str:
    if inspect.ismodule(o): return "module"
    if isinstance(o, type): return "exception" if issubclass(o, BaseException) else "class"
    return "function" if callable(o) else "object"


def showdoc_markdown(o, name: str, title_level: int = 3) -> str:
    "nbdev's show_doc markdown of `o` under `name`"
    from nbdev.showdoc import show_doc
    return show_doc(o, name=name, title_level=title_level)._repr_markdown_()


def reference_page(library: Library, ids: dict, sb: "SiteBuilder", pages: list, title: str = "API reference") -> tuple[Generated, list]:
    """The API reference: every public name with its one-line docstring and a link to its entry; a member without
    a show_doc entry in its chapter (a method written in a class body) gets its entry at the end of this page.
    Returns the page and the names it could not link"""
    page = Generated("reference.html", title, "Every public name of the package, with its one-line description",
                     "API reference")
    rows_by_mod, unlinked, extra = {}, [], []
    names = public_names(library.lib)
    listed_classes = {o for _, _, o in names if isinstance(o, type)}
    def link(entry, label):
        if entry is None: return f"<code>{html.escape(label)}</code>", False
        page, _, anchor = entry.partition("#")
        ok = ids is None or (page in ids and (not anchor or anchor in ids[page]))  # None: trust nbdev's index
        return (f'<a href="{entry}"><code>{html.escape(label)}</code></a>' if ok else f"<code>{html.escape(label)}</code>"), ok
    for mod, nm, o in names:
        kind = _kind(o)
        if kind == "module":
            known = ids if ids is not None else {p.rel.as_posix() for p in pages}
            a, ok = link(f"{nm}.html" if f"{nm}.html" in known else None, nm)
            doc = (inspect.getdoc(o) or "").split("\n")[0]
        else:
            entry = (library.entry(nm, getattr(o, "__module__", mod)) or library.entry(nm)
                     or library.entry(getattr(o, "__qualname__", nm)))  # a patched method, imported by name
            if o is None:  # e.g. a name bound to what `@patch` returned: point at the method it patched
                unlinked.append(f"{nm} (is None in the package)")
                entry = next((library.loc[f"{m}.{q}"] for q, ms in library.mods.items() if q.endswith("." + nm) for m in ms), None)
                kind, o = "method", library.resolve(entry and next(q for q in library.mods if q.endswith("." + nm)))
                o = o[1] if o else None
            a, ok = link(entry, nm)
            doc = _first_line(o) if o is not None else ""
        if not ok: unlinked.append(nm)
        rows = rows_by_mod.setdefault(mod, [])
        rid = f' id="ref-{nm}"' if kind in ("class", "exception") else ""
        rows.append(f'<tr class="ref-{kind}"{rid}><td>{a} <span class="sig-kind">{kind}</span></td><td>{_doc_html(doc)}</td></tr>')
        if kind == "class":
            inherited = set()
            for mnm, mkind, attr, aliases in members(o):
                owner = next(k for k in o.__mro__ if mnm in vars(k))
                if owner is not o and owner in listed_classes:  # listed once, under the class that defines it
                    inherited.add(owner); continue
                entry = library.entry(f"{owner.__name__}.{mnm}") or library.entry(f"{o.__name__}.{mnm}")
                ma, mok = link(entry, f"{nm}.{mnm}")
                if not mok:
                    q = f"{owner.__name__}.{mnm}"
                    if q not in {e[0] for e in extra}: extra.append((q, attr, mkind))
                    ma = f'<a href="#{slugify(q)}"><code>{html.escape(f"{nm}.{mnm}")}</code></a>'
                alias = "".join(f" = <code>{html.escape(x)}</code>" for x in aliases)
                doc = _first_line(attr) or next((_first_line(vars(k)[mnm]) for k in o.__mro__[1:]  # an override
                                                 if mnm in vars(k) and _first_line(vars(k)[mnm])), "")  # without one
                rows.append(f'<tr class="ref-member"><td>{ma}{alias} <span class="sig-kind">{mkind}</span></td>'
                            f'<td>{_doc_html(doc)}</td></tr>')
            for base in [k for k in o.__mro__ if k in inherited]:
                rows.append(f'<tr class="ref-inherits"><td colspan="2">… and the members of '
                            f'<a href="#ref-{base.__name__}"><code>{base.__name__}</code></a> it inherits</td></tr>')
    body, toc = [], []
    intro = ("<p>Every name <code>import mixednb</code> gives you, with the methods and properties of its classes: "
             "the first line of each docstring, linked to the full entry (signature, arguments, examples) in the "
             "chapter that explains it. Properties are read as attributes (<code>m.sigma</code>); Greek aliases are "
             "listed beside their ASCII names.</p>")
    chapters = {p.rel.as_posix(): p for p in pages}
    for mod, rows in rows_by_mod.items():
        short = mod.split(".", 1)[-1]
        hid = f"mod-{short}"
        toc.append((2, hid, short))
        where = next((loc.split("#")[0] for q, loc in library.loc.items() if q.startswith(mod + ".")), f"{short}.html")
        ch = chapters.get(where)
        chapter = (f' <a class="chapter-link" href="{where}">chapter {ch.number} · {html.escape(ch.title)}</a>'
                   if ch is not None and ch.number else "")
        body.append(f'<h2 id="{hid}" class="anchored"><code>{html.escape(mod)}</code>{chapter}'
                    f'<a class="anchor-link" href="#{hid}" aria-label="link to this section">¶</a></h2>'
                    f'<div class="table-wrap"><table class="reference"><tbody>{"".join(rows)}</tbody></table></div>')
    if extra:  # entries for members whose chapter has none, rendered as the chapters render show_doc
        page.toc.append((2, "more-entries", "More entries"))
        body.append('<h2 id="more-entries" class="anchored">More entries<a class="anchor-link" href="#more-entries" '
                    'aria-label="link to this section">¶</a></h2><p>Methods and properties written in a class body, '
                    'which their chapter explains in its prose rather than with an entry of their own.</p>')
        page.api_ids = {slugify(q) for q, _, _ in extra}
        for q, attr, mkind in extra:
            try: md = showdoc_markdown(attr.fget if isinstance(attr, property) else attr, q, 3)
            except Exception as e: unlinked.append(f"{q} ({type(e).__name__}: {e})"); continue
            md, page.badge = clean_showdoc(md, library)
            page.in_showdoc = True
            try: body.append(f'<div class="cell"><div class="cell-output cell-output-markdown">{sb.md(page, md)}</div></div>')
            finally: page.in_showdoc, page.badge = False, ""
    page.toc = toc + page.toc
    page.body = intro + "\n".join(body)
    return page, unlinked


def quarto_sidebar(nbs: Path) -> list:
    """The `website.sidebar.contents` of `nbs/_quarto.yml` for these notebooks: the same sections and order as this
    site's sidebar, files listed one by one (tests/test_docs.py checks that `_quarto.yml` says this)"""
    out, sections = [], {}
    for f in notebooks(nbs):
        rel = f.relative_to(nbs)
        sec = section_of(rel)
        if not sec: out.append(rel.as_posix()); continue
        if sec not in sections: sections[sec] = {"section": sec, "contents": []}; out.append(sections[sec])
        sections[sec]["contents"].append(rel.as_posix())
    out.append({"section": "API reference", "contents": ["reference.qmd"]})
    return out


def reference_html() -> str:
    """The API reference's body for Quarto (`nbs/reference.qmd` prints it, so `nbdev-docs` has the page too):
    the same tables and entries, linked through nbdev's index without checking the pages"""
    from nbdev.config import get_config
    cfg = get_config()
    pages = []
    for f in notebooks(Path(cfg.nbs_path)):
        rel = f.relative_to(cfg.nbs_path)
        g = Generated(_nbpath2html(rel), _nb_title(f), "", section_of(rel))
        g.number = chapter_number(f.name)
        pages.append(g)
    with tempfile.TemporaryDirectory() as tmp:
        sb = SiteBuilder(Path(tmp), f"{cfg.doc_host}{cfg.doc_baseurl}", cfg.lib_name, "", Library(cfg.lib_name))
        page, _ = reference_page(sb.library, None, sb, pages)
    return page.body


def _nbpath2html(rel: Path) -> str:
    from nbdev.config import nbpath2html
    return nbpath2html(rel).as_posix()


def _nb_title(f: Path) -> str:
    "The `# Title` of a notebook's first markdown cell"
    import json as _json
    for c in _json.loads(f.read_text()).get("cells", []):
        if c.get("cell_type") == "markdown":
            m = re.match(r"#\s+(.+)", "".join(c.get("source", "")).strip())
            return m[1].strip() if m else f.stem
    return f.stem


# ---------------------------------------------------------------------------------------------
# The whole site

def page_ids(html_text: str) -> set:
    return set(re.findall(r'\bid="([^"]+)"', html_text))


def unlink_missing(rel: str, s: str, ids: dict) -> tuple[str, int]:
    "nbdev's automatic links (`<a href=page#name><code>name</code></a>`) to names without an entry, as plain code"
    n = 0
    def fix(m):
        nonlocal n
        href = html.unescape(m[1])
        if re.match(r"[a-z][a-z0-9+.-]*:", href) or "#" not in href: return m[0]
        path, _, frag = href.partition("#")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), path)) if path else rel
        if target in ids and frag not in ids[target]:
            n += 1
            return m[2]
        return m[0]
    return re.sub(r'<a href="([^"]+)"[^>]*>(<code>[^<]*</code>)</a>', fix, s), n


def _prepare_out(out: Path):
    if out.exists():
        if out.is_dir() and ((out / MARKER).exists() or not any(out.iterdir())): shutil.rmtree(out)
        else: raise SystemExit(f"{out} exists and was not written by build_docs.py; remove it or choose another --out")
    out.mkdir(parents=True)
    (out / MARKER).write_text("Written by tools/build_docs.py; rebuilt from scratch on every run.\n")
    (out / ".nojekyll").write_text("")


def build(out: Path, nbs: Path | None = None, workers: int = 2, quiet: bool = False,
          reference: bool | None = None) -> list[Path]:
    """Build the site into `out`; the HTML pages written. The API reference is written when `reference` is true
    (default: when `nbs` is the project's own notebook folder, whose package it describes)"""
    from nbdev.config import get_config
    cfg = get_config()
    nbs = Path(nbs or cfg.nbs_path).resolve()
    if reference is None: reference = nbs == Path(cfg.nbs_path).resolve()
    files = notebooks(nbs)
    if not files: raise SystemExit(f"no notebooks found in {nbs}")
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="mixednb-docs-") as tmp:
        procs = process_notebooks(files, Path(tmp), workers)
        pages = [Page(f, p, nbs) for f, p in zip(files, procs)]
    t1 = time.time()
    _prepare_out(out)
    library = Library(cfg.lib_name) if reference else None
    title = str(cfg.get("title", cfg.lib_name))
    sb = SiteBuilder(out, f"{cfg.doc_host}{cfg.doc_baseurl}", title, str(cfg.get("description", "")), library)
    sb.assets(nbs)
    if not any(p.rel.as_posix() == "index.html" for p in pages):
        pages.insert(0, Generated("index.html", title, sb.description, "", sb.contents_body(pages), []))
    bodies = {id(p): (p.body if isinstance(p, Generated) else sb.body(p)) for p in pages}
    ids = {p.rel.as_posix(): page_ids(bodies[id(p)]) for p in pages}
    unlinked = []
    if reference:
        ref, unlinked = reference_page(library, ids, sb, pages)
        pages.append(ref); bodies[id(ref)] = ref.body; ids["reference.html"] = page_ids(ref.body)
    html_pages, index, nfixed = {}, [], 0
    for page in pages:
        s = sb.render(page, pages, bodies[id(page)])
        html_pages[page.rel.as_posix()] = s
    ids = {rel: page_ids(s) for rel, s in html_pages.items()}
    written = []
    for page in pages:
        rel = page.rel.as_posix()
        s, n = unlink_missing(rel, html_pages[rel], ids)
        nfixed += n
        dst = out / page.rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(s, encoding="utf-8")
        written.append(dst)
        main = s.split('<main id="content">', 1)[1].split('<nav class="page-nav"', 1)[0]
        index += search_entries(rel, page.title, main)
    (out / "assets" / "search-index.js").write_text(
        "window.MIXEDNB_SEARCH = " + json.dumps(index, ensure_ascii=False, separators=(",", ":")) + ";\n", encoding="utf-8")
    if not quiet:
        print(f"build_docs: {len(pages)} pages from {nbs} written to {out} in {time.time() - t0:.1f}s "
              f"(nbdev's processing {t1 - t0:.1f}s); {nfixed} links to names without an entry left as code")
        if unlinked: print(f"build_docs: API reference entries without a show_doc entry to link to: {', '.join(unlinked)}")
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=None, help="output folder (default: doc_path from pyproject, `_docs`)")
    ap.add_argument("--nbs", default=None, help="notebook folder (default: nbs_path from pyproject, `nbs`)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                    help="worker processes for nbdev's processing (0: in this process)")
    ap.add_argument("--reference", choices=["auto", "yes", "no"], default="auto",
                    help="write the API reference page (auto: when --nbs is the project's notebook folder)")
    ap.add_argument("--quarto-sidebar", action="store_true",
                    help="print the sidebar `contents` for nbs/_quarto.yml (nbdev-docs) and build nothing")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve() if args.out else None
    nbs = Path(args.nbs).resolve() if args.nbs else None
    os.chdir(ROOT)  # nbdev reads its settings from the project's pyproject.toml, found from the cwd
    from nbdev.config import get_config
    if args.quarto_sidebar:
        import yaml
        print(yaml.dump(quarto_sidebar(nbs or Path(get_config().nbs_path)), sort_keys=False, allow_unicode=True))
        return
    build(out or get_config().doc_path, nbs, args.workers, reference={"auto": None, "yes": True, "no": False}[args.reference])


if __name__ == "__main__":
    main()
