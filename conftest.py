"""pytest runs every notebook in `nbs/` and in `nbs/guide/` (the user's guide) through nbdev's own runner, one test item per notebook.

Each notebook runs in a fresh Python process, as `nbdev-test` runs them: a chapter that re-defines
exported classes and `@patch`es (as every chapter does when its cells run) cannot leak into the next.
A notebook passes when every cell runs; a failing cell fails the item with nbdev's traceback.
Cells flagged with a directive named in `tst_flags` (`#| notest`, `#| slow`) are skipped,
as `nbdev-test` skips them.
"""
import os, subprocess, sys
from pathlib import Path

import pytest

_RUNNER = """
import sys
from nbdev.config import get_config
from nbdev.test import test_nb
cfg = get_config()
ok, secs = test_nb(sys.argv[1], skip_flags=cfg.tst_flags.split(), basepath=cfg.config_path)
sys.exit(0 if ok else 1)
"""


def _is_notebook_dir(d: Path) -> bool:
    "`nbs/` (the chapters) or `nbs/guide/` (the user's guide)"
    return d.name == "nbs" or (d.name == "guide" and d.parent.name == "nbs")


def pytest_collect_file(parent, file_path: Path):
    if file_path.suffix == ".ipynb" and _is_notebook_dir(file_path.parent) and not file_path.name.startswith("_"):
        return NotebookFile.from_parent(parent, path=file_path)


class NotebookFile(pytest.File):
    def collect(self):
        yield NotebookItem.from_parent(self, name=self.path.stem)


class NotebookItem(pytest.Item):
    def runtest(self):
        env = dict(os.environ, MPLBACKEND="Agg")
        r = subprocess.run([sys.executable, "-c", _RUNNER, str(self.path)], cwd=self.path.parent,
                           env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise NotebookFailure((r.stderr or "") + (r.stdout or ""))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, NotebookFailure):
            return f"notebook {self.path.name} failed:\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"notebook {self.path.name}"


class NotebookFailure(Exception):
    pass
