"""A stand-in for the image and joke services: a real HTTP server on a free
local port whose answers each test sets, path by path. It can be up, slow,
answering garbage, or (with `down_url()`) not there at all."""

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def json_answer(data: Any, status: int = 200) -> Answer:
    return Answer(
        status, json.dumps(data).encode(), {"Content-Type": "application/json"}
    )


def image_answer(size: int | None = None, content_type: str = "image/png") -> Answer:
    headers = {"Content-Type": content_type}
    if size is not None:
        # What a HEAD tells of a large file without sending it.
        headers["Content-Length"] = str(size)
    return Answer(200, PNG, headers)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class ServiceDouble:
    def __init__(self):
        self.seen: list[Seen] = []
        self._routes: dict[str, list[Answer]] = {}
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                double._answer(self, body=True)

            def do_HEAD(self):
                double._answer(self, body=False)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}
        )

    def __enter__(self) -> "ServiceDouble":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def route(self, path: str, *answers: Answer) -> str:
        """Answer requests for path with answers in turn, the last one for
        ever after; returns the path's full address."""
        with self._lock:
            self._routes[path] = list(answers)
        return self.url + path

    def requests(self, method: str | None = None, path: str | None = None) -> list:
        with self._lock:
            return [
                s
                for s in self.seen
                if method in (None, s.method) and path in (None, s.path)
            ]

    def _answer(self, handler: BaseHTTPRequestHandler, body: bool) -> None:
        parts = urlsplit(handler.path)
        with self._lock:
            self.seen.append(
                Seen(
                    handler.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    dict(handler.headers.items()),
                )
            )
            answers = self._routes.get(parts.path)
            if answers is None:
                answer = Answer(404, b"not here")
            else:
                answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if answer.delay:
            time.sleep(answer.delay)
        try:
            handler.send_response(answer.status)
            for name, value in answer.headers.items():
                handler.send_header(name, value)
            if "Content-Length" not in answer.headers:
                handler.send_header("Content-Length", str(len(answer.body)))
            handler.end_headers()
            if body:
                handler.wfile.write(answer.body)
        except OSError:
            pass  # the caller gave up waiting


def down_url() -> str:
    """An address where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"
