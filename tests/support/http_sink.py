"""A loopback HTTP server that records requests and answers with a programmable status."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes


@dataclass
class Sink:
    statuses: list[int] = field(default_factory=list)  # answered in order; then 200
    requests: list[Recorded] = field(default_factory=list)
    fail_for: dict[str, list[int]] = field(default_factory=dict)  # by body's user.id, in order
    delay: float = 0.0  # seconds before answering (a slow receiver)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def start(self) -> "Sink":
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                sink.requests.append(Recorded(self.command, self.path, dict(self.headers),
                                              self.rfile.read(length)))
                status = sink.statuses.pop(0) if sink.statuses else 200
                planned = sink.fail_for.get(_user(sink.requests[-1].body))
                if planned:
                    status = planned.pop(0)
                if sink.delay:
                    time.sleep(sink.delay)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_POST = do_GET = _handle

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # many senders' connections at once (the default is 5)
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def _user(body: bytes) -> str | None:
    try:
        return (json.loads(body).get("user") or {}).get("id")
    except (ValueError, AttributeError):
        return None
