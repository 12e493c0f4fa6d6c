"""pytest runs every notebook in `nbs/` through nbdev's own runner, one test item per notebook.

A notebook passes when every cell runs; a failing cell fails the item with nbdev's traceback.
Cells flagged with a directive named in `tst_flags` (`#| notest`, `#| slow`) are skipped,
as `nbdev-test` skips them.
"""
import io, os, contextlib
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collect_file(parent, file_path: Path):
    if file_path.suffix == ".ipynb" and file_path.parent.name == "nbs" and not file_path.name.startswith("_"):
        return NotebookFile.from_parent(parent, path=file_path)


class NotebookFile(pytest.File):
    def collect(self):
        yield NotebookItem.from_parent(self, name=self.path.stem)


class NotebookItem(pytest.Item):
    def runtest(self):
        from nbdev.config import get_config
        from nbdev.test import test_nb
        cfg = get_config()
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            ok, secs = test_nb(self.path, skip_flags=cfg.tst_flags.split(), basepath=cfg.config_path)
        if not ok:
            raise NotebookFailure(err.getvalue() or "a cell failed: nbdev's traceback is in the captured stderr below")

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, NotebookFailure):
            return f"notebook {self.path.name} failed:\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"notebook {self.path.name}"


class NotebookFailure(Exception):
    pass
