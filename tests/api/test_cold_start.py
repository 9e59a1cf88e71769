"""Cold start: importing the app loads no image library, no image module, no boto3 and no cryptography
(session tokens and password hashes use the standard library) and no team-account service (bound
lazily, like every domain's service); creating a
url live code and scanning it load no image library either.

The image modules import Pillow and qrcode inside their functions, and `import app` must not even
load those modules (they are bound lazily). A fresh interpreter shows both."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("PIL", "qrcode", "boto3", "cryptography")
IMAGE_MODULES = ("chalicelib.images", "chalicelib.qr", "chalicelib.posters.render",
                 "chalicelib.posters.service")
TEAM_MODULES = ("chalicelib.members.service", "chalicelib.members.sessions",
                "chalicelib.members.audit", "chalicelib.members.passwords")

SCRIPT = f"""
import json, sys
HEAVY, IMAGE_MODULES = {HEAVY!r}, {IMAGE_MODULES!r} + {TEAM_MODULES!r}

def loaded():
    tops = {{m.split(".")[0] for m in sys.modules}}
    return sorted(t for t in HEAVY if t in tops) + sorted(m for m in IMAGE_MODULES if m in sys.modules)

import app
after_import = loaded()

from chalice.test import Client
from tests.support import stack
with stack.moto_in_process():  # moto itself imports boto3: only images are checked from here
    from chalicelib.auth import service
    key = service.create_tenant("cold")["api_key"]
    h = {{"Authorization": f"Bearer {{key}}", "Content-Type": "application/json"}}
    before = set(loaded())
    with Client(app.app) as client:
        code = json.loads(client.http.post("/v1/livecodes", headers=h, body=json.dumps(
            {{"name": "c", "channel": "poster", "targets": [{{"kind": "url", "name": "u", "url": "https://example.com/"}}]}})).body)
        html = client.http.get(f"/s/{{code['slug']}}", headers={{"Accept": "text/html"}})
        data = client.http.get(f"/s/{{code['slug']}}", headers={{"Accept": "application/json"}})
    statuses = [html.status_code, data.status_code]
print(json.dumps({{"import": after_import,
                  "scan": sorted(set(loaded()) - before - {{"boto3"}} - set(IMAGE_MODULES)),
                  "statuses": statuses}}))
"""


def test_import_and_scan_load_no_image_library_nor_boto3():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["import"] == []
    assert result["scan"] == []
    assert result["statuses"] == [302, 200]  # the scans really ran: redirect, JSON answer


CONSOLE_SCRIPT = """
import json, sys
import app
print(json.dumps({"routes": sorted(app.app.routes),
                  "modules": sorted(m for m in sys.modules
                                    if "console" in m.lower() or m.split(".")[0] == "devstack")}))
"""


def test_console_adds_no_route_and_nothing_to_import_app():
    """The console is static files (make dev serves them from devstack/console.py, CloudFront from
    S3): no /console route in the app, so nothing on the scan path, and `import app` loads no
    console or local-stack module."""
    out = subprocess.run([sys.executable, "-c", CONSOLE_SCRIPT], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(result["routes"]) > 20  # the app's routes really were read
    assert [r for r in result["routes"] if r.split("/")[1].lower().startswith("console")] == []
    assert result["modules"] == []
