"""The operator console's bundle: JavaScript a browser downloads (gzip -9) before the app starts
and before each screen shows, from Vite's manifest (console/dist/.vite/manifest.json). Target from
the console issue: initial JavaScript ≤ 300 KB gzip."""
from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

from bench.common import row

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "console" / "dist"
SCREENS = {"sign-in": "src/views/login/LoginView.vue",
           "overview": "src/views/overview/OverviewView.vue",
           "live codes": "src/views/livecodes/LiveCodeList.vue",
           "live code detail": "src/views/livecodes/LiveCodeDetail.vue",
           "live code form": "src/views/livecodes/LiveCodeEdit.vue"}
INITIAL_LIMIT_KB = 300


def _gzip_kb(path: Path) -> float:
    return len(gzip.compress(path.read_bytes(), 9)) / 1024


def closure(manifest: dict, key: str, seen: set[str] | None = None) -> set[str]:
    """The chunk and every chunk it imports statically (what loads with it)."""
    seen = set() if seen is None else seen
    if key in seen:
        return seen
    seen.add(key)
    for dep in manifest[key].get("imports", []):
        closure(manifest, dep, seen)
    return seen


def sizes(manifest: dict) -> dict[str, float]:
    entry = next(k for k, v in manifest.items() if v.get("isEntry"))
    initial = closure(manifest, entry)
    kb = {k: _gzip_kb(DIST / v["file"]) for k, v in manifest.items() if v["file"].endswith(".js")}
    out = {"initial": sum(kb.get(k, 0) for k in initial),
           "all": sum(kb.values())}
    for name, src in SCREENS.items():
        if src in manifest:
            out[name] = sum(kb.get(k, 0) for k in closure(manifest, src, set(initial)) - initial)
    return out


def run(size: str) -> list[dict]:
    del size  # the bundle is the same at every size
    subprocess.run(["make", "-s", "-o", ".venv/.installed", "console"], cwd=ROOT, check=True)
    manifest = json.loads((DIST / ".vite" / "manifest.json").read_text())
    s = sizes(manifest)
    rows = [row("console: initial JS (entry + static imports)", s["initial"], "KB gzip",
                f"≤ {INITIAL_LIMIT_KB}", s["initial"] <= INITIAL_LIMIT_KB)]
    for name in SCREENS:
        if name in s:
            rows.append(row(f"console: + JS for the {name} screen", s[name], "KB gzip"))
    rows.append(row("console: all JS chunks", s["all"], "KB gzip"))
    return rows
