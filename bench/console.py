"""The operator console's bundle: JavaScript a browser downloads (gzip -9) before the app starts
and before each screen shows, from Vite's manifest (console/dist/.vite/manifest.json). Target from
the console issue: initial JavaScript ≤ 300 KB gzip.

Then Lighthouse (npm, bench/lighthouse/, Debian's Chromium headless) on the overview and the live-code
list against the real local stack, signed in as the demo owner: performance ≥ 90 and accessibility
≥ 95 on each, desktop and mobile presets. A missed score is reported, not fatal; Lighthouse that
cannot run is (an exception, non-zero exit)."""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import tempfile
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
LIGHTHOUSE = ROOT / "bench" / "lighthouse"
AUDITED = {"overview": "/console/overview", "live codes": "/console/livecodes"}
PERFORMANCE_TARGET, ACCESSIBILITY_TARGET = 90, 95
LOGIN_LINE = re.compile(r"owner login\s+(\S+@\S+) / (\S+)")


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
    charts = "src/components/echarts.ts"  # loaded when a chart first comes into view
    if charts in manifest:
        out["charts"] = sum(kb.get(k, 0) for k in closure(manifest, charts, set(initial)) - initial)
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
    if "charts" in s:
        rows.append(row("console: + JS for charts (when one comes into view)", s["charts"], "KB gzip"))
    rows.append(row("console: all JS chunks", s["all"], "KB gzip"))
    return rows + lighthouse_rows()


def chromium() -> str:
    path = os.environ.get("CHROME_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("Lighthouse needs Chromium: run scripts/ensure-chromium (as root)")
    return path


def audit(base: str, session: dict, form_factors: str = "desktop,mobile") -> dict:
    """Run bench/lighthouse/audit.mjs against a running stack; its JSON result."""
    screens = ",".join(f"{name.replace(' ', '')}={path}" for name, path in AUDITED.items())
    env = {**os.environ, "BASE": base, "SESSION": json.dumps(session), "SCREENS": screens,
           "FORM_FACTORS": form_factors, "CHROME_PATH": chromium()}
    out = subprocess.run(["node", "audit.mjs"], cwd=LIGHTHOUSE, env=env, capture_output=True,
                         text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"Lighthouse could not run (exit {out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def sign_in(stack) -> dict:
    """The demo owner's session, from the login `make dev` printed."""
    email, password = LOGIN_LINE.search(stack.log).groups()
    status, _, body = stack.request("POST", "/v1/sessions", {"email": email, "password": password},
                                    key=None)
    if status != 201 and status != 200:
        raise RuntimeError(f"sign-in failed: {status} {body[:300]!r}")
    s = json.loads(body)
    return {"token": s["token"], "refresh_token": s.get("refresh_token"),
            "expires_at": s.get("expires_at")}


def lighthouse_rows() -> list[dict]:
    subprocess.run(["make", "-s", "-o", ".venv/.installed", "lighthouse"], cwd=ROOT, check=True)
    from tests.e2e.conftest import DevStack

    with tempfile.TemporaryDirectory(prefix="yutang-lh-") as tmp:
        from pathlib import Path as _Path

        stack = DevStack(_Path(tmp))
        try:
            result = audit(stack.base, sign_in(stack))
        finally:
            try:
                stack.stop()
            except subprocess.TimeoutExpired:  # saving its data is slow on a busy machine
                stack.proc.kill()
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    (ROOT / "bench" / "out" / "lighthouse.json").write_text(json.dumps(result, indent=2))
    rows = []
    for r in result["results"]:
        label = f"console: Lighthouse {r['screen']} ({r['formFactor']})"
        if "/console/login" in r["finalUrl"]:
            raise RuntimeError(f"{label}: not signed in (landed on {r['finalUrl']})")
        rows.append(row(f"{label} performance", r["performance"], "score",
                        f"≥ {PERFORMANCE_TARGET}", r["performance"] >= PERFORMANCE_TARGET))
        rows.append(row(f"{label} accessibility", r["accessibility"], "score",
                        f"≥ {ACCESSIBILITY_TARGET}", r["accessibility"] >= ACCESSIBILITY_TARGET))
        rows.append(row(f"{label} LCP", r["lcp_ms"], "ms"))
        rows.append(row(f"{label} TBT", r["tbt_ms"], "ms"))
    return rows
