"""Microseconds per evaluation of the profiled objective of small LMMs (the cost that bounds a bootstrap replicate).

    python benchmarks/evalspeed.py [--reps 7] [--number 2000]

For sleepstudy, penicillin and dyestuff (ML fits), at θ̂·1.01: `m.set_theta(θ).update_L().objective()` and the
optimiser's `fitting._objective_at(m, θ)`, each the best of `--reps` timeit repeats of `--number` calls; also the
load average, since the machine is shared. The bootstrap itself is timed by `benchmarks/inference.py`.
"""
import argparse, os, timeit, warnings

import mixednb
from mixednb.fitting import _objective_at

MODELS = {"sleepstudy": "reaction ~ 1 + days + (1 + days|subj)",
          "penicillin": "diameter ~ 1 + (1|plate) + (1|sample)",
          "dyestuff": "yield ~ 1 + (1|batch)"}

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7); ap.add_argument("--number", type=int, default=2000)
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    print(f"load average {os.getloadavg()[0]:.2f}")
    for name, f in MODELS.items():
        m = mixednb.LinearMixedModel(f, name).fit()
        th = m.theta * 1.01
        chain = lambda: m.set_theta(th).update_L().objective()
        t1 = min(timeit.repeat(chain, number=a.number, repeat=a.reps)) / a.number
        t2 = min(timeit.repeat(lambda: _objective_at(m, th), number=a.number, repeat=a.reps)) / a.number
        print(f"{name:<11} {1e6 * t1:6.2f} µs set_theta/update_L/objective  {1e6 * t2:6.2f} µs _objective_at  "
              f"objective {chain():.12g}")
    print(f"load average {os.getloadavg()[0]:.2f}")

if __name__ == "__main__": main()
