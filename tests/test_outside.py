"""Calls to outside services keep their rules against a misbehaving server:
every way it can fail maps to "give up" or "try later", within the call's
time budget, and nothing secret reaches the logs."""

import email.utils
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from prow import outside
from prow.errors import OutsideError, TransientError
from prow.outside import OutsideServiceError, OutsideServiceUnavailable

TIMEOUT = 0.5
# A call must end within its timeout; this much more covers a slow machine.
SLACK = 0.7
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
# Past any test's timeout, so a server that waits this long never answers.
FOREVER = 10


class _Handler(BaseHTTPRequestHandler):
    """The double's behaviours, one per path."""

    server: "_Server"

    def do_GET(self):
        self._serve()

    do_POST = do_HEAD = do_GET

    def _serve(self):
        double = self.server.double
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        double.seen.append(
            {
                "method": self.command,
                "path": parts.path,
                "query": parse_qs(parts.query),
                "headers": dict(self.headers.items()),
                "body": body,
            }
        )
        route = getattr(self, "route_" + parts.path.strip("/").replace("-", "_"), None)
        try:
            if route is None:
                self.reply(404, b"no such page")
            else:
                route(parse_qs(parts.query), body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def reply(self, status, payload=b"", content_type="text/plain", **headers):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def trickle(self, count):
        """A byte at a time, each well within a socket timeout."""
        for _ in range(count):
            if self.server.double.stopping.wait(0.05):
                return
            self.wfile.write(b"x")

    def route_json(self, query, body):
        self.reply(200, b'{"file": "https://cdn.example/cat.png"}', "application/json")

    def route_image(self, query, body):
        self.reply(200, PNG, "image/png")

    def route_garbage(self, query, body):
        self.reply(200, b"<html>surely not JSON", "text/html")

    def route_huge(self, query, body):
        # No declared length: the body ends when the connection does.
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        for _ in range(40):
            self.wfile.write(b"[" * 65536)

    def route_huge_declared(self, query, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(10**10))
        self.end_headers()
        self.server.double.stopping.wait(FOREVER)

    def route_slow(self, query, body):
        if not self.server.double.stopping.wait(FOREVER):
            self.reply(200, b"{}", "application/json")

    def route_trickle_body(self, query, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.trickle(1000)

    def route_trickle_unsized(self, query, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.trickle(1000)

    def route_trickle_headers(self, query, body):
        self.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
        self.trickle(1000)

    def route_status(self, query, body):
        self.reply(int(query["code"][0]), b"the service\n  says no")

    def route_limited(self, query, body):
        self.reply(429, b"slow down", Retry_After=query["after"][0])

    def route_redirect(self, query, body):
        self.send_response(int(query.get("code", ["302"])[0]))
        self.send_header("Location", query["to"][0])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_loop(self, query, body):
        self.send_response(302)
        self.send_header("Location", "/loop")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_echo(self, query, body):
        self.reply(200, body, self.headers.get("Content-Type", "text/plain"))

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    double: "OutsideDouble"

    def handle_error(self, request, client_address):
        pass  # a client cutting a trickle short is the point, not a failure


class OutsideDouble:
    """An outside service on a free local port; the path picks how it
    behaves, and seen lists what reached it."""

    def __init__(self):
        self.seen = []
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.double = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def service():
    with OutsideDouble() as double:
        yield double


@pytest.fixture
def other_service():
    with OutsideDouble() as double:
        yield double


def refused_address():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def failure(call, *args, **kwargs):
    """Run a call that must fail; return its error and how long it took."""
    started = time.monotonic()
    with pytest.raises(OutsideError) as caught:
        call(*args, timeout=TIMEOUT, **kwargs)
    return caught.value, time.monotonic() - started


def assert_transient(error, elapsed):
    assert isinstance(error, OutsideServiceUnavailable)
    assert isinstance(error, TransientError)
    assert error.permanent is False
    assert elapsed < TIMEOUT + SLACK


def assert_permanent(error):
    assert isinstance(error, OutsideServiceError)
    assert not isinstance(error, TransientError)
    assert error.permanent is True


def test_json_is_fetched_with_its_query(service):
    answer = outside.get_json(f"{service.url}/json", params={"q": "cats"})
    assert answer == {"file": "https://cdn.example/cat.png"}
    (request,) = service.seen
    assert request["query"] == {"q": ["cats"]}
    assert request["headers"]["Accept"] == "application/json"
    assert request["headers"]["User-Agent"] == "Prow"


def test_bytes_come_with_their_type(service):
    answer = outside.get_bytes(f"{service.url}/image")
    assert answer.status == 200
    assert answer.content == PNG
    assert answer.content_type == "image/png"


def test_head_tells_type_and_size_without_the_body(service):
    answer = outside.head(f"{service.url}/image")
    assert (answer.content_type, answer.length, answer.content) == (
        "image/png",
        len(PNG),
        b"",
    )
    assert [r["method"] for r in service.seen] == ["HEAD"]


def test_post_sends_body_and_headers(service):
    answer = outside.post(
        f"{service.url}/echo",
        data=b'{"a": 1}',
        headers={"Content-Type": "application/json", "X-Token": "t"},
    )
    assert answer.json() == {"a": 1}
    (request,) = service.seen
    assert request["body"] == b'{"a": 1}'
    assert request["headers"]["X-Token"] == "t"


def test_a_service_that_is_down_is_unavailable():
    error, elapsed = failure(outside.get_json, f"{refused_address()}/json")
    assert_transient(error, elapsed)
    assert "connection refused" in str(error)


def test_a_slow_service_is_given_up_on_in_time(service):
    error, elapsed = failure(outside.get_json, f"{service.url}/slow")
    assert_transient(error, elapsed)
    assert "no full answer within 0.5s" in str(error)


@pytest.mark.parametrize("path", ["trickle-body", "trickle-unsized", "trickle-headers"])
def test_a_trickle_cannot_outlast_the_deadline(service, path):
    # Each byte comes well within a socket timeout: only a deadline for the
    # whole call stops this.
    error, elapsed = failure(outside.get_bytes, f"{service.url}/{path}")
    assert_transient(error, elapsed)


def test_an_answer_that_is_not_json_is_refused(service):
    error, _ = failure(outside.get_json, f"{service.url}/garbage")
    assert_permanent(error)
    assert "not JSON" in str(error)


def test_an_answer_past_the_cap_is_refused(service):
    error, elapsed = failure(outside.get_json, f"{service.url}/huge", max_bytes=100_000)
    assert_permanent(error)
    assert "larger than 100000 bytes" in str(error)
    assert elapsed < TIMEOUT + SLACK


def test_a_declared_size_past_the_cap_is_refused_before_reading(service):
    error, elapsed = failure(outside.get_bytes, f"{service.url}/huge-declared")
    assert_permanent(error)
    # The double never sends the body: waiting for it would run out the clock.
    assert elapsed < TIMEOUT


@pytest.mark.parametrize("code", [500, 502, 503])
def test_a_server_error_is_unavailable_and_not_retried_here(service, code):
    error, elapsed = failure(outside.get_json, f"{service.url}/status?code={code}")
    assert_transient(error, elapsed)
    assert error.status == code
    assert error.retry_after is None
    assert str(error).endswith(f"answered {code}: the service says no")
    assert len(service.seen) == 1


@pytest.mark.parametrize("code", [400, 403, 404, 410])
def test_a_client_error_is_permanent(service, code):
    error, _ = failure(outside.get_json, f"{service.url}/status?code={code}")
    assert_permanent(error)
    assert error.status == code


def test_a_rate_limit_says_when_to_come_back(service):
    error, elapsed = failure(outside.get_json, f"{service.url}/limited?after=7")
    assert_transient(error, elapsed)
    assert error.status == 429
    assert error.retry_after == 7


def test_a_retry_after_date_becomes_seconds(service):
    when = email.utils.formatdate(time.time() + 120, usegmt=True)
    error, _ = failure(outside.get_json, f"{service.url}/limited?after={when}")
    assert 115 <= error.retry_after <= 121


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://127.0.0.1/pub/cat.png", "gopher://x/"]
)
def test_redirects_leave_http_for_nothing_else(service, target):
    error, _ = failure(outside.get_bytes, f"{service.url}/redirect?to={target}")
    assert_permanent(error)
    assert "only http and https" in str(error)
    assert [r["path"] for r in service.seen] == ["/redirect"]


def test_an_address_that_is_not_http_is_refused_unsent():
    error, elapsed = failure(outside.get_bytes, "file:///etc/passwd")
    assert_permanent(error)
    assert elapsed < TIMEOUT


def test_http_redirects_are_followed(service):
    answer = outside.get_json(f"{service.url}/redirect?to=/json&code=301")
    assert answer == {"file": "https://cdn.example/cat.png"}
    assert [r["path"] for r in service.seen] == ["/redirect", "/json"]


def test_a_redirect_loop_ends(service):
    error, _ = failure(outside.get_json, f"{service.url}/loop")
    assert_permanent(error)
    assert len(service.seen) == outside.MAX_REDIRECTS + 1


def test_see_other_after_a_post_is_a_get(service):
    outside.post(f"{service.url}/redirect?to=/json&code=303", data=b"x")
    assert [(r["method"], r["path"]) for r in service.seen] == [
        ("POST", "/redirect"),
        ("GET", "/json"),
    ]


def test_credentials_stay_with_their_host(service, other_service):
    outside.get_json(
        f"{service.url}/redirect?to={other_service.url}/json",
        headers={"Authorization": "Bearer ours"},
    )
    assert service.seen[0]["headers"]["Authorization"] == "Bearer ours"
    assert "Authorization" not in other_service.seen[0]["headers"]


def test_query_strings_stay_out_of_logs_and_errors(service, caplog):
    caplog.set_level(logging.DEBUG, logger="prow.outside")
    key = {"api_key": "sekrit-key"}
    outside.get_json(f"{service.url}/json", params=key)
    errors = [
        failure(outside.get_json, f"{service.url}/status?code=500", params=key)[0],
        failure(outside.get_json, f"{refused_address()}/json?api_key=sekrit-key")[0],
        failure(outside.get_json, f"{service.url}/garbage", params=key)[0],
    ]
    assert service.seen[0]["query"] == {"api_key": ["sekrit-key"]}
    assert f"{service.url}/json" in caplog.text
    assert "sekrit" not in caplog.text
    assert [e for e in errors if "sekrit" in str(e)] == []


def test_credentials_in_the_address_are_not_shown():
    assert (
        outside.safe_url("https://user:pw@api.example:8443/v1/img?key=k#top")
        == "https://api.example:8443/v1/img"
    )


def test_the_cap_is_exact(service):
    answer = outside.get_bytes(f"{service.url}/image", max_bytes=len(PNG))
    assert answer.content == PNG
    error, _ = failure(
        outside.get_bytes, f"{service.url}/image", max_bytes=len(PNG) - 1
    )
    assert_permanent(error)
