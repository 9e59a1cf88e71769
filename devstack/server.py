"""Chalice's local HTTP server, configured for many clients: a thread per connection (Chalice's
ThreadedHTTPServer) and a listen backlog of BACKLOG instead of socketserver's 5, so a burst of
concurrent clients queues instead of being reset."""
from __future__ import annotations

from typing import Any

from chalice import local

BACKLOG = 512  # the kernel caps it at net.core.somaxconn (4096 on current Linux)


class BacklogServer(local.ThreadedHTTPServer):
    """ThreadingMixIn + HTTPServer with a normal backlog; handler threads die with the process."""

    request_queue_size = BACKLOG
    daemon_threads = True
    allow_reuse_address = True


def create_server(app_obj: Any, config: Any, host: str, port: int) -> local.LocalDevServer:
    """What ``chalice.local.create_local_server`` does, with :class:`BacklogServer`."""
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, app_obj.__class__)
    app_obj.__class__ = local.CustomLocalChalice
    return local.LocalDevServer(app_obj, config, host, port, server_cls=BacklogServer)
