"""The package as a user gets it: a wheel, installed apart from the repository, finds its data sets.

The wheel is built from a copy of what setuptools packages (`pyproject.toml`, `README.md`, `mixednb/`,
`datasets/`), so the build leaves nothing in the work tree; it is installed with `--no-deps` into a
temporary target, and imported from another directory with the running interpreter's dependencies.
Building needs `setuptools>=77` in pip's isolated build environment (from PyPI or pip's cache).
"""
import os, shutil, subprocess, sys, zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return r.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    "(target folder, a folder outside the repository, environment that imports mixednb from the target)"
    tmp = tmp_path_factory.mktemp("pkg")
    src = tmp / "src"
    src.mkdir()
    for f in ("pyproject.toml", "README.md"): shutil.copy2(ROOT / f, src / f)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc")
    for d in ("mixednb", "datasets"): shutil.copytree(ROOT / d, src / d, ignore=skip)
    for f in ROOT.glob("LICENSE*"): shutil.copy2(f, src / f.name)
    wheels = tmp / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(src), "-w", str(wheels)])
    (whl,) = wheels.glob("mixednb-*.whl")
    names = zipfile.ZipFile(whl).namelist()
    for f in ("mixednb/__init__.py", "mixednb/_modidx.py", "mixednb/_data/insteval.arrow", "mixednb/_data/README.md"):
        assert f in names, f"{f} missing from {whl.name}"
    target = tmp / "target"
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(whl)])
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(target)}
    return target, elsewhere, env


def py(code, installed):
    target, elsewhere, env = installed
    return run([sys.executable, "-c", code], cwd=elsewhere, env=env).strip().splitlines()


def test_wheel_imports_from_its_install(installed):
    target = installed[0]
    (where,) = py("import mixednb; print(mixednb.__file__)", installed)
    assert Path(where).is_relative_to(target), f"imported {where}, not the wheel in {target}"


def test_wheel_serves_insteval(installed):
    assert py("import mixednb; print(mixednb.dataset('insteval').shape)", installed) == ["(73421, 7)"]


def test_wheel_unknown_dataset_lists_names(installed):
    out = py("import mixednb\ntry: mixednb.dataset('nope')\nexcept Exception as e: print(type(e).__name__); print(e)\n"
             "print(','.join(mixednb.datasets()))", installed)
    kind, message, names = out[0], "\n".join(out[1:-1]), out[-1].split(",")
    assert kind == "KeyError" and len(names) == 17
    for name in names: assert name in message, f"{name!r} not listed in: {message}"
