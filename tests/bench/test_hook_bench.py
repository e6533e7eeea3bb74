"""The webhook benchmark's floor view and its report."""

import pytest
from django.db import connection

from bench import floor
from bench import hook as bench
from tests.webhooks import SECRET, fixture_payload, sign


@pytest.fixture
def floor_table(db):
    with connection.cursor() as cursor:
        cursor.execute(floor.CREATE)


def _post(client, body: bytes, signature: str, guid: str):
    return client.post(
        "/bench/floor",
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="issue_comment",
        HTTP_X_GITHUB_DELIVERY=guid,
        HTTP_X_HUB_SIGNATURE_256=signature,
    )


def _floor_rows() -> list[tuple[str, bytes]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT guid, body FROM {floor.TABLE}")
        return [(guid, bytes(body)) for guid, body in cursor.fetchall()]


@pytest.mark.urls("bench.urls")
def test_the_floor_stores_a_signed_body_as_sent(client, secret_file, floor_table):
    body = (bench.FIXTURE).read_bytes()
    assert _post(client, body, sign(body), "floor-1").status_code == 200
    assert _floor_rows() == [("floor-1", body)]


@pytest.mark.urls("bench.urls")
def test_the_floor_refuses_a_bad_signature(client, secret_file, floor_table):
    body = b'{"action": "created"}'
    response = _post(client, body, sign(body, SECRET + "x"), "floor-2")
    assert response.status_code == 403
    assert _floor_rows() == []


def _max(path: str, answered: int, seconds: float = 10.0) -> bench.Result:
    return bench.Result(
        path=path,
        mode="max c=16",
        seconds=seconds,
        statuses={200: answered},
        latencies=[0.01] * answered,
    )


def _share(gunicorn: float) -> dict[str, float]:
    return {
        "gunicorn": gunicorn,
        "postgres": 40.0,
        "redis": 1.0,
        "generator": 10.0,
        "other": 0.0,
        "machine": 200.0,
    }


def _report(capsys, stored: dict[str, int], queued: int) -> tuple[int, str]:
    args = bench._parse_args(["--max-rate"])
    args.broker_url = "redis://127.0.0.1:1/0"
    results = [
        _max(bench.BARE, 40_000),
        _max(bench.FLOOR, 14_000),
        _max(bench.HOOK, 12_000),
    ]
    cpu = [_share(150.0), _share(140.0), _share(145.0)]
    status = bench._report(args, None, results, cpu, stored, queued, "", 0.0)
    return status, capsys.readouterr().out


def test_the_report_gives_three_rates_two_ratios_and_the_counts(capsys):
    stored = {bench.FLOOR: 14_000, bench.HOOK: 12_000}
    status, out = _report(capsys, stored, 12_000)
    assert (
        "max req/s: /bench/bare 4000, /bench/floor 1400, /hook 1200; "
        "/hook / floor = 0.86, /hook / bare = 0.30"
    ) in out
    assert "PASS  /hook throughput 1200 req/s = 0.86 x floor 1400 req/s" in out
    assert "PASS  /bench/floor answered 200 14000 times" in out
    assert "12000 deliveries stored, 12000 queued in Redis" in out
    assert status == 0


def test_a_lost_row_fails_the_run(capsys):
    stored = {bench.FLOOR: 14_000, bench.HOOK: 11_999}
    status, out = _report(capsys, stored, 12_000)
    assert "FAIL  /hook answered 200 12000 times" in out
    assert status == 1


def test_a_slow_hook_fails_the_run(capsys):
    args = bench._parse_args(["--max-rate"])
    args.broker_url = "redis://127.0.0.1:1/0"
    results = [
        _max(bench.BARE, 40_000),
        _max(bench.FLOOR, 14_000),
        _max(bench.HOOK, 6_000),
    ]
    cpu = [_share(150.0)] * 3
    stored = {bench.FLOOR: 14_000, bench.HOOK: 6_000}
    status = bench._report(args, None, results, cpu, stored, 6_000, "", 0.0)
    assert "FAIL  /hook throughput 600 req/s = 0.43 x floor" in capsys.readouterr().out
    assert status == 1


def test_the_fixture_is_the_signed_comment_the_target_speaks_of():
    payload = fixture_payload("issue_comment.created")
    assert payload["action"] == "created"
    assert 14_000 < len(bench.FIXTURE.read_bytes()) < 15_000
