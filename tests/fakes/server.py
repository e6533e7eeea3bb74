"""The local HTTP plumbing the doubles share: a fake answers
``handle(method, path, headers, body) -> Reply`` and this serves it."""

from __future__ import annotations

import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class FakeServer:
    """start()/stop() (or ``with``) serve ``self.handle`` on a free local
    port; ``url`` is where."""

    thread_name = "fake"
    url: str | None = None
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    def start(self) -> Self:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        # A short poll keeps stop(), and so every test teardown, fast.
        serve = partial(self._server.serve_forever, poll_interval=0.01)
        self._thread = threading.Thread(
            target=serve, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeServer


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive lets the clients (PyGithub, the kubernetes client's urllib3)
    # reuse their pooled connection, as they do with the real servers.
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes; Nagle would stall each reply ~40ms.
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        reply = self.server.fake.handle(
            self.command, self.path, dict(self.headers.items()), raw
        )
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        has_body = reply.status not in (204, 304)
        if has_body:
            self.send_header("Content-Length", str(len(reply.payload)))
        self.end_headers()
        if has_body:
            self.wfile.write(reply.payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        # Each fake keeps its own request log instead of stderr access logs.
        pass
