"""Start-up: a first fit in a fresh process beside the bare-import floor, for the library and the command line.

    python benchmarks/startup.py [--runs 9]

Each run starts fresh Python processes one after the other (interleaved, so that a change in the machine's load
reaches every column alike) and times each from the outside (wall clock, `time.perf_counter` around `subprocess.run`):

- **floor**: `import numpy, pandas, scipy.linalg, numba, pyarrow.feather, nlopt` (what a fit cannot do without);
- **import**: `import mixednb`;
- **library**: `import mixednb` and a first ML fit of `reaction ~ 1 + days + (1 + days|subj)` on sleepstudy;
- **command line**: `python -m mixednb fit "reaction ~ 1 + days + (1 + days|subj)" sleepstudy` (which also prints
  the summary).

The numba cache is warm (one untimed run of each first). Prints the medians, the differences to the floor and the
load average; `--out FILE` writes them as JSON.
"""
import argparse, json, os, statistics, subprocess, sys, time
from pathlib import Path

FORMULA = "reaction ~ 1 + days + (1 + days|subj)"
COMMANDS = {
    "floor": [sys.executable, "-c", "import numpy, pandas, scipy.linalg, numba, pyarrow.feather, nlopt"],
    "import": [sys.executable, "-c", "import mixednb"],
    "library": [sys.executable, "-c", f"import mixednb; mixednb.fit({FORMULA!r}, 'sleepstudy')"],
    "command line": [sys.executable, "-m", "mixednb", "fit", FORMULA, "sleepstudy"],
}


def once(cmd) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    for cmd in COMMANDS.values(): once(cmd)                  # warm the numba cache and the file cache
    times = {k: [] for k in COMMANDS}
    load0 = os.getloadavg()[0]
    for _ in range(a.runs):
        for k, cmd in COMMANDS.items(): times[k].append(once(cmd))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"median of {a.runs} fresh processes each; load average {load0:.2f} → {os.getloadavg()[0]:.2f}")
    for k, v in med.items():
        print(f"{k:<14}{v:7.3f} s   floor + {v - med['floor']:6.3f} s")
    out = {"runs": a.runs, "loadavg": [load0, os.getloadavg()[0]], "median_s": med, "times_s": times}
    if a.out: Path(a.out).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
