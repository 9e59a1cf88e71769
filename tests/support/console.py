"""Build the operator console once for the tests that serve or drive it (`make console`, which does
nothing when console/dist is current), under a file lock so parallel workers build it once."""
from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "console" / "dist"


def ensure_built() -> Path:
    lock_path = ROOT / "console" / ".build.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # -o: the venv stamp is make's business in `make test`; here the venv is already running us
        result = subprocess.run(["make", "-s", "-o", ".venv/.installed", "console"], cwd=ROOT,
                                capture_output=True, text=True,
                                env={**os.environ, "PYTHON": "python3"})
        if result.returncode != 0 or not (DIST / "index.html").is_file():
            raise RuntimeError("make console failed:\n" + result.stdout[-4000:] + result.stderr[-4000:])
    return DIST
