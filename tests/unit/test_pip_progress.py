"""scripts/pip-install (what `make dev` runs on a fresh machine) shows progress in a few lines and
keeps pip's exit code; on failure it shows pip's last lines."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def fake_python(tmp_path, packages, code):
    script = tmp_path / "python"
    lines = [f"Collecting {p}>=1 (from -r requirements.txt)" for p in packages]
    lines += [f"  Downloading {p}-1.0-py3-none-any.whl (12 kB)" for p in packages]
    lines.append("Installing collected packages: " + ", ".join(packages))
    lines.append("ERROR: boom" if code else "Successfully installed " + " ".join(packages))
    script.write_text("#!/bin/sh\ncat <<'OUT'\n" + "\n".join(lines) + f"\nOUT\nexit {code}\n")
    script.chmod(0o755)
    return str(script)


def run(python, *args):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "pip-install"), python, *args],
                          capture_output=True, text=True, timeout=60)


def test_progress_is_grouped_and_short(tmp_path):
    packages = [f"pkg{i}" for i in range(20)]
    result = run(fake_python(tmp_path, packages, 0), "-r", "requirements.txt")
    assert result.returncode == 0
    out = result.stdout.splitlines()
    fetched = [name for line in out if line.strip().startswith("fetching")
               for name in line.split("fetching", 1)[1].strip().split(", ")]
    assert fetched == packages
    assert "  installing 20 packages..." in out and out[-1].startswith("  done (20 fetched")
    assert len(out) <= 6  # 20 packages, 3 + 1 + 1 lines: not pip's 60


def test_a_failure_keeps_the_exit_code_and_shows_pips_output(tmp_path):
    result = run(fake_python(tmp_path, ["a", "b"], 3), "-r", "requirements.txt")
    assert result.returncode == 3
    assert "ERROR: boom" in result.stderr
