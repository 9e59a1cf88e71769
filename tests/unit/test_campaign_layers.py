"""The campaigns package's shape: pure modules load no I/O, and the layers import downwards only
(a circle, or a call to another module's private name, fails here)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("chalicelib/campaigns", "chalicelib/channels")
IO_MODULES = ("boto3", "botocore", "pynamodb", "chalicelib.aws", "chalicelib.db",
              "chalicelib.audience.users", "chalicelib.audience.store",
              "chalicelib.campaigns.models")


def test_schedule_is_pure_it_loads_no_io_module():
    script = """
import sys
from datetime import datetime, timezone
from chalicelib.campaigns import schedule
now = datetime(2030, 6, 3, 2, 0, tzinfo=timezone.utc)
schedule.parse({"cron": "0 10 * * 1"}, now)
schedule.parse({"at": "2030-07-01T10:00:00+08:00"}, now)
schedule.parse({"after_event": {"type": "order_paid"}}, now, lambda v: v)
schedule.next_fire("0 10 * * 1", "Asia/Shanghai", now)
schedule.quiet_until(now, schedule.parse_quiet_hours({"start": "22:00", "end": "08:00"}),
                     "Asia/Shanghai")
schedule.periods(now, "Asia/Shanghai")
print(",".join(sorted(sys.modules)))
"""
    loaded = set(subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout.strip().split(","))
    assert "chalicelib.campaigns.schedule" in loaded
    assert not [m for m in IO_MODULES if m in loaded]


def _imports(path: Path) -> tuple[set[str], set[tuple[str, str]]]:
    """Modules a file imports (top level and inside functions), and (module, name) pairs of
    ``from module import name`` / ``module.name`` uses of private names."""
    tree = ast.parse(path.read_text())
    found, private = set(), set()
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                target = full if (ROOT / (full.replace(".", "/") + ".py")).exists() else node.module
                found.add(target)
                aliases[a.asname or a.name] = target
                if a.name.startswith("_") and target == node.module:
                    private.add((node.module, a.name))
        elif isinstance(node, ast.Import):
            for a in node.names:
                found.add(a.name)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr.startswith("_")
                and not node.attr.startswith("__") and aliases[node.value.id].startswith("chalicelib")):
            private.add((aliases[node.value.id], node.attr))
    return found, private


def _graph() -> tuple[dict[str, set[str]], set[tuple[str, str, str]]]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).glob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    graph, private = {}, set()
    for name, path in modules.items():
        found, used = _imports(path)
        graph[name] = {m for m in found if m in modules and m != name}
        private |= {(name, m, attr) for m, attr in used if m in modules and m != name}
    return graph, private


def test_campaign_modules_import_in_layers_without_a_circle():
    graph, _ = _graph()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join(path + [node, nxt]))
            if nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert "chalicelib.campaigns.service" not in set().union(*(
        deps for name, deps in graph.items() if name != "chalicelib.campaigns.routes"))
    assert not any(m.startswith("chalicelib.campaigns") for m in set().union(*(
        deps for name, deps in graph.items() if name.startswith("chalicelib.channels"))))


def test_no_module_calls_another_modules_private_names():
    _, private = _graph()
    assert private == set()
