"""/tide.js and /tide-history.js in the original's shapes, read from what
Tide stored: the scripts and dashboards written for the original's Deck
read ours unchanged."""

import datetime as dt
import json

import pytest

from tests.factories import TideHistoryFactory, TidePoolFactory, tide_pull
from tide.models import Action

pytestmark = pytest.mark.django_db

CONFIG = """\
tide:
  queries:
  - repos: [acme/app]
    labels: [lgtm]
    missingLabels: [do-not-merge/hold]
  - orgs: [kubernetes]
    reviewApprovedRequired: true
"""
PR_KEYS = {
    "Number",
    "Author",
    "Title",
    "HeadRefName",
    "HeadRefOID",
    "BaseRef",
    "Labels",
    "Repository",
}


def get_json(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_tide_js_has_the_queries_as_searches_and_as_configured(client, activate_config):
    activate_config(config_yaml=CONFIG)
    data = get_json(client, "/tide.js")
    assert data["Queries"] == [
        'is:pr state:open archived:false label:"lgtm" -label:"do-not-merge/hold"'
        ' repo:"acme/app"',
        'is:pr state:open archived:false review:approved org:"kubernetes"',
    ]
    # Only the keys set, as the original's omitempty tags write them.
    assert data["TideQueries"] == [
        {
            "repos": ["acme/app"],
            "labels": ["lgtm"],
            "missingLabels": ["do-not-merge/hold"],
        },
        {"orgs": ["kubernetes"], "reviewApprovedRequired": True},
    ]
    assert data["Pools"] == []


def test_tide_js_pools_carry_graphql_shaped_pull_requests(client):
    TidePoolFactory(
        action=Action.TRIGGER_BATCH,
        success_prs=[tide_pull(1, labels=["lgtm", "approved"])],
        pending_prs=[tide_pull(2)],
        missing_prs=[tide_pull(3, author="carol", title="Three", head_ref="three")],
        target=[tide_pull(2), tide_pull(3)],
        batches=[
            {"pulls": [tide_pull(2), tide_pull(3)], "state": "pending", "jobs": []},
            {"pulls": [tide_pull(3), tide_pull(4)], "state": "pending", "jobs": []},
            {"pulls": [tide_pull(1)], "state": "failure", "jobs": []},
        ],
        blockers=[{"number": 9, "title": "Freeze", "url": "https://gh/acme/app/9"}],
        error="",
    )
    (pool,) = get_json(client, "/tide.js")["Pools"]
    assert set(pool) == {
        "Org",
        "Repo",
        "Branch",
        "SuccessPRs",
        "PendingPRs",
        "MissingPRs",
        "BatchPending",
        "Action",
        "Target",
        "Blockers",
        "Error",
        "TenantIDs",
    }
    assert (pool["Org"], pool["Repo"], pool["Branch"]) == ("acme", "app", "main")
    assert pool["Action"] == "TRIGGER_BATCH"
    assert pool["Error"] == ""
    (missing,) = pool["MissingPRs"]
    assert missing == {
        "Number": 3,
        "Author": {"Login": "carol"},
        "Title": "Three",
        "HeadRefName": "three",
        "HeadRefOID": f"{3:040x}",
        "BaseRef": {"Name": "main", "Prefix": "refs/heads/"},
        "Labels": {"Nodes": [{"Name": "lgtm"}, {"Name": "approved"}]},
        "Repository": {
            "Name": "app",
            "NameWithOwner": "acme/app",
            "Owner": {"Login": "acme"},
        },
    }
    for key in ("SuccessPRs", "PendingPRs", "Target", "BatchPending"):
        assert all(set(pr) == PR_KEYS for pr in pool[key])
    assert [pr["Number"] for pr in pool["SuccessPRs"]] == [1]
    assert [pr["Number"] for pr in pool["Target"]] == [2, 3]
    # Pull requests of every pending batch, each once; failed batches are
    # not pending.
    assert [pr["Number"] for pr in pool["BatchPending"]] == [2, 3, 4]
    assert pool["Blockers"] == [
        {"Number": 9, "Title": "Freeze", "URL": "https://gh/acme/app/9"}
    ]
    assert pool["TenantIDs"] == []


def test_tide_js_leaves_hidden_repositories_out(client, activate_config):
    activate_config(config_yaml="deck:\n  hidden_repos: [acme/private]\n")
    TidePoolFactory(repo="app")
    TidePoolFactory(repo="private")
    pools = get_json(client, "/tide.js")["Pools"]
    assert [p["Repo"] for p in pools] == ["app"]
    TideHistoryFactory(repo="private")
    TideHistoryFactory(repo="app")
    assert list(get_json(client, "/tide-history.js")["History"]) == ["acme/app:main"]


def test_tide_history_js_groups_records_by_pool_newest_first(client):
    at = dt.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=dt.UTC)
    old = TideHistoryFactory(action=Action.TRIGGER, created=at)
    new = TideHistoryFactory(
        action=Action.MERGE,
        created=at + dt.timedelta(minutes=5),
        error="failed merging [7]: head modified",
    )
    TideHistoryFactory(branch="release-1", base_sha="", targets=[])
    history = get_json(client, "/tide-history.js")["History"]
    assert set(history) == {"acme/app:main", "acme/app:release-1"}
    main = history["acme/app:main"]
    assert [r["action"] for r in main] == [new.action, old.action]
    assert main[1] == {
        "time": "2024-05-01T12:30:15.123456Z",
        "action": "TRIGGER",
        "baseSHA": "b" * 40,
        "target": [
            {
                "number": 7,
                "author": "alice",
                "sha": "7".rjust(40, "0"),
                "title": "Change 7",
                "head_ref": "change-7",
            }
        ],
        "tenantids": [],
    }
    assert main[0]["err"] == "failed merging [7]: head modified"
    # Empty fields are left out, as the original's omitempty tags do.
    (bare,) = history["acme/app:release-1"]
    assert set(bare) == {"time", "action", "tenantids"}


def test_tide_history_js_serves_at_most_the_originals_records_per_pool(
    client, monkeypatch
):
    monkeypatch.setattr("deck.tide_views.HISTORY_PER_POOL", 3)
    records = [TideHistoryFactory() for _ in range(5)]
    TideHistoryFactory(branch="dev")
    history = get_json(client, "/tide-history.js")["History"]
    assert len(history["acme/app:main"]) == 3
    assert len(history["acme/app:dev"]) == 1
    assert history["acme/app:main"][0]["time"] == (
        records[-1].created.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    )


@pytest.mark.parametrize("path", ["/tide.js", "/tide-history.js"])
def test_var_wraps_the_json_in_a_script(client, path):
    TidePoolFactory()
    TideHistoryFactory()
    plain = client.get(path).content.decode()
    wrapped = client.get(path + "?var=tideData")
    assert wrapped["Content-Type"] == "application/javascript"
    body = wrapped.content.decode()
    assert body == f"var tideData = {plain};"
    assert json.loads(body.removeprefix("var tideData = ").removesuffix(";"))
    refused = client.get(path + "?var=alert(1)")
    assert refused.status_code == 400
    assert b"alert(1)" not in refused.content
    assert client.post(path).status_code == 405
    assert "no-cache" in client.get(path)["Cache-Control"]
