"""Where the shared references are: `../shared/` beside the checkout (as CI has it), or `$MIXEDNB_SHARED`.

Without them the reference tests cannot run: under CI that is an error, elsewhere those modules skip.
"""
import json, os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MIXEDNB_SHARED") or ROOT.parent / "shared")
SPEC = SHARED / "seed" / "000_fb7184924fb54e0d.txt"
SEED_EXPECTATIONS = SHARED / "reference" / "seed_expectations.json"
LME4_FITS = SHARED / "reference" / "lme4_fits.json"


def require(path: Path) -> Path:
    "The path, or skip the calling module (fail under CI) when the shared references are missing"
    if not path.exists():
        msg = f"{path} not found: put the shared references at ../shared or set MIXEDNB_SHARED"
        if os.environ.get("CI"): raise FileNotFoundError(msg)
        pytest.skip(msg, allow_module_level=True)
    return path


def load_json(path: Path) -> dict:
    return json.loads(require(path).read_text())
