"""`make dev`: the whole product on this machine, no AWS account, no network.

Starts moto on loopback (unless AWS_ENDPOINT_URL points at another local stack), provisions tables,
bucket and queues from the code, restores the data directory, seeds the demo tenant, serves the API
with Chalice's local server on :8000, and drives the scheduled and SQS handlers in the background.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default=os.environ.get("YUTANG_DEV_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("YUTANG_DEV_PORT", "8000")))
    p.add_argument("--data-dir", default=os.environ.get("YUTANG_DATA_DIR", str(ROOT / ".yutang-data")))
    p.add_argument("--tick-seconds", type=float,
                   default=float(os.environ.get("YUTANG_TICK_SECONDS", "60")))
    p.add_argument("--no-persist", action="store_true", help="do not load or save the data dir")
    return p.parse_args(argv)


def configure_env(args: argparse.Namespace, endpoint: str) -> None:
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    for key, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local"),
                       ("AWS_DEFAULT_REGION", "us-east-1"), ("YUTANG_STAGE", "local"),
                       ("YUTANG_PUBLIC_URL", f"http://{args.host}:{args.port}"),
                       ("YUTANG_METRICS", "0")):  # EMF lines are for CloudWatch, noise on a console
        os.environ.setdefault(key, value)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("werkzeug", "botocore", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    moto = None
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        step("starting the embedded AWS stand-in (moto: DynamoDB, S3, SQS)")
        from devstack.moto_server import MotoServer

        if not args.no_persist:  # the last snapshot and the journal after it, loaded before serving
            step(f"restoring saved data from {args.data_dir} (snapshot, then journal)")
        moto = MotoServer("127.0.0.1", int(os.environ.get("YUTANG_MOTO_PORT", "0")),
                          data_dir=None if args.no_persist else args.data_dir)
        endpoint = moto.start()
    configure_env(args, endpoint)
    os.environ.setdefault("YUTANG_SECRET", _dev_secret(Path(args.data_dir)))
    fake_wecom = None
    data_dir = Path(args.data_dir)
    persisting = moto is not None and not args.no_persist
    if not os.environ.get("YUTANG_WECOM_API_BASE"):  # no real 企业微信 locally: a fake on loopback
        from devstack.fake_wecom import FakeWecom

        fake_wecom = FakeWecom(port=int(os.environ.get("YUTANG_FAKE_WECOM_PORT", "0")),
                               state_path=data_dir / "fake-wecom.json" if persisting else None)
        os.environ["YUTANG_WECOM_API_BASE"] = fake_wecom.start()
    from devstack.fake_wechat import start_for_dev

    fake_wechat = start_for_dev(os.environ)  # code2session offline, unless a real base is set

    from chalicelib.settings import get_settings
    from devstack import persist, seed, stack

    creds = seed.credentials(data_dir, os.environ.get("YUTANG_DEV_API_KEY"),
                             os.environ.get("YUTANG_ADMIN_KEY"),
                             os.environ.get("YUTANG_DEV_OWNER_PASSWORD"))
    os.environ["YUTANG_ADMIN_KEY"] = creds["admin_key"]
    step("creating tables, bucket and queues")
    provisioned = stack.provision()
    restored = moto.restored if persisting else None  # loaded by moto.start(), before serving
    if restored is not None and persist.legacy_snapshot_dir(data_dir) is not None:
        if not restored["snapshot"]:  # else imported already (killed before the removal below)
            legacy = persist.restore_legacy(data_dir)  # a data dir saved by an earlier version
            moto.snapshot()
            restored = {**restored, **{k: restored[k] + legacy[k] for k in legacy}}
        persist.remove_legacy(data_dir)
    step("seeding the demo tenant")
    seeded = seed.seed(creds)

    sys.path.insert(0, str(ROOT))
    from chalice.config import Config

    from devstack.server import create_server

    step("loading the app")
    import app as app_module
    from devstack.drain import Background

    config = Config.create(chalice_stage="dev", app_name="yutang", chalice_app=app_module.app,
                           project_dir=str(ROOT))
    from devstack import gateway

    gateway.install()  # API Gateway's own errors in the contract's shape, as infra/ configures them
    from devstack import console

    console.install(ROOT / "console" / "dist")  # the SPA at /console/, before Chalice's routing
    server = create_server(app_module.app, config, args.host, args.port)  # listening from here
    background = Background(app_module, args.tick_seconds)
    background.start()
    saver = _Saver(moto if moto is not None and not args.no_persist else None, data_dir)
    saver.start()
    print(banner(args, endpoint, creds, seeded, provisioned, restored, moto is not None,
                 get_settings().public_url, persisting=persisting,
                 private_fetch=get_settings().allow_private_fetch), flush=True)
    print(f"  WeChat API   {get_settings().wechat_api_base}" + (
        " (fake: mini-program login codes are any name, e.g. alice:1)" if fake_wechat else ""),
        flush=True)
    print(f"  企业微信 API {get_settings().wecom_api_base}"
          + (f" (fake; drive it over HTTP: {get_settings().wecom_api_base}/fake/state, "
             f"docs/local-stack.md{'; state restored' if fake_wecom.restored else ''})"
             if fake_wecom else ""), flush=True)

    def shutdown(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping: draining background work"
              + (" and saving data..." if persisting else " (nothing is saved)..."), flush=True)
        background.stop()
        saver.stop()
        if moto is not None:
            moto.stop()
        if fake_wecom is not None:
            fake_wecom.stop()
        if fake_wechat is not None:
            fake_wechat.stop()
        print("stopped.", flush=True)
    return 0


def _dev_secret(data_dir: Path) -> str:
    from chalicelib.ids import new_token

    path = data_dir / "dev-secret"
    data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(new_token(32))
        path.chmod(0o600)
    return path.read_text().strip()


class _Saver:
    """fsyncs the journal every ``tick`` (1 s) and snapshots (compacting the journal) every
    ``every`` seconds when something was written, or sooner when the journal passes ``max_bytes``
    or ``max_records`` (to bound the replay after a kill); a last snapshot on a clean stop. What it
    saves is already safe in the journal: a kill -9 between two snapshots loses nothing, the next
    start replays more."""

    def __init__(self, moto, data_dir: Path, every: float = 30.0,
                 max_bytes: int = 64 * 1024 * 1024, max_records: int = 20_000,
                 tick: float = 1.0) -> None:
        self.moto, self.data_dir, self.every, self.tick = moto, data_dir, every, tick
        self.max_bytes, self.max_records = max_bytes, max_records
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="saver")

    def start(self) -> None:
        if self.moto is not None:
            self._thread.start()

    def _loop(self) -> None:
        import time

        last = time.monotonic()
        while not self._stop.wait(self.tick):
            try:
                self.moto.sync()
                journal = self.moto.journal
                due = time.monotonic() - last >= self.every and self.moto.pending() > 0
                full = journal is not None and (journal.bytes_since_rotate > self.max_bytes
                                                or journal.records_since_rotate > self.max_records)
                if due or full:
                    self.moto.snapshot()
                    last = time.monotonic()
            except Exception:  # noqa: BLE001 - the journal still has it; the next save tries again
                logging.getLogger("yutang.local").exception("snapshot failed")

    def stop(self) -> None:
        self._stop.set()
        if self.moto is not None:
            self._thread.join(timeout=5)
            counts = self.moto.snapshot()
            print(f"saved {counts['items']} items, {counts['objects']} objects and "
                  f"{counts['messages']} queue messages to {self.data_dir}", flush=True)


def step(message: str) -> None:
    """One line of start-up progress (make dev is otherwise silent until the banner)."""
    print(f"  … {message}", flush=True)


def banner(args, endpoint, creds, seeded, provisioned, restored, own_moto, public_url, *,
           persisting: bool = True, private_fetch: bool = False) -> str:
    key, admin = creds["api_key"], creds["admin_key"]
    demo = seeded["demo_code"]
    api = f"http://{args.host}:{args.port}"
    built = (ROOT / "console" / "dist" / "index.html").is_file()
    console_note = "" if built else "  (not built: run make console)"
    login = json.dumps({"email": creds["owner_email"], "password": creds["owner_password"]})
    stack_line = (f"embedded moto on {endpoint}" if own_moto else f"existing endpoint {endpoint}")
    if not persisting:
        restored_line = ("not saved by make dev: AWS_ENDPOINT_URL is set, that stack keeps its "
                         "own data" if not own_moto else "not saved (--no-persist)")
    elif restored and (restored["items"] or restored["objects"]):
        replayed = (f", {restored['replayed']} journal records replayed"
                    if restored.get("replayed") else "")
        restored_line = (f"restored {restored['items']} items, {restored['objects']} objects, "
                         f"{restored.get('messages', 0)} queue messages{replayed}; "
                         f"saved to {args.data_dir}")
    else:
        restored_line = f"fresh data; saved to {args.data_dir}"
    fetch_line = ("allowed (YUTANG_ALLOW_PRIVATE_FETCH=1)" if private_fetch else
                  "refused (image_url, webhooks; YUTANG_ALLOW_PRIVATE_FETCH=1 allows)")
    stop_line = (f"Ctrl-C stops (from a script: kill -TERM {os.getpid()}); "
                 + (f"data is kept in {args.data_dir} (see docs/local-stack.md)." if persisting
                    else "nothing is saved by make dev."))
    return f"""
鱼塘 Yutang is running (local stack)
  API          {api}
  console      {api}/console/{console_note}
  AWS          {stack_line}; {len(provisioned['queues'])} queue(s), bucket {provisioned['bucket']}
  data         {restored_line}
  private addresses  {fetch_line}
  background   scheduler tick every {args.tick_seconds:g}s, SQS drain for every queue

  demo tenant  {creds['tenant_id']}
  owner login  {creds['owner_email']} / {creds['owner_password']}
  API key      {key}
  admin key    {admin}
  demo code    {demo['scan_url']}

Try:
  curl -s {api}/v1/livecodes -H 'Authorization: Bearer {key}'
  curl -s -A 'Mozilla/5.0 (iPhone) MicroMessenger/8.0' -H 'Accept: application/json' {demo['scan_url']}
  curl -s -o demo-qr.png '{api}/v1/livecodes/{demo['id']}/qr?size=512' \\
       -H 'Authorization: Bearer {key}' -H 'Accept: image/png'
  curl -s {api}/v1/livecodes/{demo['id']}/stats -H 'Authorization: Bearer {key}'
  curl -s -X POST {api}/v1/sessions -d '{login}'
  curl -s -X POST {api}/admin/v1/tenants -H 'Authorization: Bearer {admin}' -d '{{"name":"My brand"}}'
  open {demo['scan_url']} in a browser (phone size) to see the landing page
  API reference: {api}/openapi.json
{stop_line}
"""


if __name__ == "__main__":
    sys.exit(main())
