"""An in-process moto server (DynamoDB, S3, SQS) on loopback.

moto applies a DynamoDB conditional write as read-check-write without a lock, so two threads can
both pass a condition that DynamoDB would serialise. This server serialises DynamoDB requests
(as DynamoDB serialises writes to an item), which makes capacity races in tests and `make dev`
behave as they do on AWS. S3 and SQS (whose long polls would block) run concurrently.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class _DynamoSerializer:
    def __init__(self, app: Callable) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with self._lock:
                return list(self._app(environ, start_response))
        return self._app(environ, start_response)


class MotoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args, **kwargs) -> None:  # one line per AWS call is noise
                pass

        app = _DynamoSerializer(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self.host, self.port, app, threaded=True,
                                   request_handler=QuietHandler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="moto-server")
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
