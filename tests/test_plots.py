"""`mixednb.plots` as a user meets it: imported on demand, every plot returns a Figure, and without matplotlib
the import says what to install. The plots' content is tested in `nbs/17_plots.ipynb` against lme4's numbers."""
import subprocess, sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from mixednb import fit, parametricbootstrap
from mixednb import plots

NAMES = ["caterpillar", "qqcaterpillar", "nopooling", "shrinkageplot", "coefplot", "residplot", "ridgeplot", "zetaplot"]


def run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_import_mixednb_leaves_matplotlib_alone():
    r = run("import sys, mixednb; print('matplotlib' in sys.modules)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_public_names():
    assert sorted(plots.__all__) == sorted(NAMES)


def test_missing_matplotlib_names_the_fix():
    r = run("import sys; sys.modules['matplotlib'] = None\nimport mixednb.plots")
    assert r.returncode != 0 and "pip install matplotlib" in r.stderr


@pytest.fixture(scope="module")
def ss():
    return fit("reaction ~ 1 + days + (1 + days|subj)", "sleepstudy")


def test_every_plot_returns_its_figure(ss):
    bs = parametricbootstrap(ss, 10, seed=1, progress=False)
    figs = [plots.caterpillar(ss), plots.qqcaterpillar(ss), plots.shrinkageplot(ss), plots.coefplot(ss),
            plots.residplot(ss), plots.ridgeplot(bs), plots.coefplot(bs)]
    assert all(isinstance(f, plt.Figure) for f in figs)
    assert [len(f.axes) for f in figs] == [2, 2, 1, 1, 2, 1, 1]
    for f in figs:
        assert all(a.get_xlabel() for a in f.axes), f"unlabelled x axis in {f.axes[0].get_title()}"
        plt.close(f)


def test_drawing_into_given_axes(ss):
    fig, axs = plt.subplots(2, 2)
    assert plots.coefplot(ss, ax=axs[0, 0]) is fig
    assert plots.residplot(ss, axes=axs[1]) is fig
    assert plots.shrinkageplot(ss, cols=["days"], ax=axs[0, 1]) is fig
    assert axs[0, 1].get_ylabel() == "subj" and axs[0, 1].get_xlabel() == "days"
    assert len(axs[0, 1].collections[2].get_offsets()) == 18
    with pytest.raises(ValueError, match="pass 2 Axes, got 4"): plots.caterpillar(ss, axes=axs)
    plt.close(fig)
