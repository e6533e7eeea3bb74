"""/api/v1/tide/pools/ and /api/v1/tide/history/: Tide's state, read-only,
filtered and paged like the other lists, private when Deck is, and
documented in the OpenAPI schema."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from tests.factories import TideHistoryFactory, TidePoolFactory, tide_pull
from tide.models import Action

pytestmark = pytest.mark.django_db


def get(client, url, status=200, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.content
    return response.json()


def test_pools_list_every_field(client):
    TidePoolFactory(
        action=Action.TRIGGER,
        success_prs=[],
        missing_prs=[tide_pull(3, reason="Not mergeable. Needs lgtm label.")],
        target=[tide_pull(3)],
        batches=[
            {
                "pulls": [tide_pull(3)],
                "state": "pending",
                "jobs": [{"name": "x", "job": "unit", "state": "pending", "url": ""}],
            }
        ],
        blockers=[{"number": 9, "title": "Freeze", "url": "https://gh/9"}],
        error="boom",
    )
    (pool,) = get(client, "/api/v1/tide/pools/")
    assert pool["org"] == "acme" and pool["branch"] == "main"
    assert pool["action"] == "TRIGGER"
    assert pool["missing_prs"][0]["reason"] == "Not mergeable. Needs lgtm label."
    assert pool["missing_prs"][0]["labels"] == ["lgtm", "approved"]
    assert pool["target"][0]["number"] == 3
    assert pool["batches"][0]["jobs"][0]["job"] == "unit"
    assert pool["blockers"] == [{"number": 9, "title": "Freeze", "url": "https://gh/9"}]
    assert pool["error"] == "boom"
    assert pool["success_prs"] == [] and pool["pending_prs"] == []
    assert pool["synced_at"]


def test_pools_filter_by_org_repo_and_branch(client):
    TidePoolFactory(org="acme", repo="app", branch="main")
    TidePoolFactory(org="acme", repo="app", branch="dev")
    TidePoolFactory(org="acme", repo="lib", branch="main")
    TidePoolFactory(org="other", repo="app", branch="main")

    def keys(query):
        return [
            f"{p['org']}/{p['repo']}:{p['branch']}"
            for p in get(client, "/api/v1/tide/pools/" + query)
        ]

    assert keys("?org=acme") == ["acme/app:dev", "acme/app:main", "acme/lib:main"]
    assert keys("?org=acme&repo=app") == ["acme/app:dev", "acme/app:main"]
    assert keys("?repo=other/app") == ["other/app:main"]
    assert keys("?org=acme&branch=main") == ["acme/app:main", "acme/lib:main"]
    assert keys("?branch=dev") == ["acme/app:dev"]
    # A repository name alone is that name in any org.
    assert keys("?repo=app") == ["acme/app:dev", "acme/app:main", "other/app:main"]
    assert keys("?org=acme&repo=other/app") == []
    assert "org" in get(client, "/api/v1/tide/pools/?org=a%20b", status=400)


def test_history_pages_by_cursor_newest_first(client):
    records = [TideHistoryFactory() for _ in range(7)]
    ids = [r.id for r in reversed(records)]
    page = get(client, "/api/v1/tide/history/?limit=3")
    assert [r["id"] for r in page["results"]] == ids[:3]
    assert page["previous"] is None
    page = get(client, page["next"])
    assert [r["id"] for r in page["results"]] == ids[3:6]
    last = get(client, page["next"])
    assert [r["id"] for r in last["results"]] == ids[6:]
    assert last["next"] is None
    back = get(client, last["previous"])
    assert [r["id"] for r in back["results"]] == ids[3:6]
    record = last["results"][0]
    assert set(record) == {
        "id",
        "org",
        "repo",
        "branch",
        "action",
        "base_sha",
        "targets",
        "error",
        "created",
    }
    assert record["targets"][0]["number"] == 7


def test_history_filters(client):
    merge = TideHistoryFactory()  # acme/app:main #7 by alice
    trigger = TideHistoryFactory(
        action=Action.TRIGGER,
        branch="dev",
        targets=[{"number": 8, "author": "bob", "sha": "8"}],
    )
    lib = TideHistoryFactory(repo="lib", targets=[{"number": 70, "author": "bob"}])

    def ids(query):
        page = get(client, "/api/v1/tide/history/" + query)
        return {r["id"] for r in page["results"]}

    assert ids("?org=acme&repo=app") == {merge.id, trigger.id}
    assert ids("?repo=acme/lib") == {lib.id}
    assert ids("?branch=dev") == {trigger.id}
    assert ids("?action=TRIGGER") == {trigger.id}
    assert ids("?pull=7") == {merge.id}
    assert ids("?pull=70") == {lib.id}
    assert ids("?author=bob") == {trigger.id, lib.id}
    assert "action" in get(client, "/api/v1/tide/history/?action=NOPE", status=400)
    assert "pull" in get(client, "/api/v1/tide/history/?pull=7.0", status=400)
    assert "cursor" in get(client, "/api/v1/tide/history/?cursor=x1", status=400)


def test_hidden_repositories_are_left_out(client, activate_config):
    activate_config(config_yaml="deck:\n  hidden_repos: [secret]\n")
    TidePoolFactory(org="secret", repo="thing")
    TideHistoryFactory(org="secret", repo="thing")
    assert get(client, "/api/v1/tide/pools/") == []
    assert get(client, "/api/v1/tide/pools/?org=secret") == []
    assert get(client, "/api/v1/tide/history/?org=secret")["results"] == []


def test_private_deck_needs_a_token(client, settings):
    settings.PROW_DECK_PUBLIC = False
    TidePoolFactory()
    TideHistoryFactory()
    for url in ("/api/v1/tide/pools/", "/api/v1/tide/history/"):
        assert client.get(url).status_code == 401
    user = get_user_model().objects.create_user("reader")
    token = Token.objects.create(user=user).key
    pools = get(client, "/api/v1/tide/pools/", Authorization=f"Token {token}")
    assert len(pools) == 1
    history = get(client, "/api/v1/tide/history/", Authorization=f"Token {token}")
    assert len(history["results"]) == 1


def test_endpoints_are_read_only(client):
    for url in ("/api/v1/tide/pools/", "/api/v1/tide/history/"):
        # Anonymous writes are refused before the method is looked at.
        assert client.post(url, {}, content_type="application/json").status_code in (
            401,
            403,
        )
    staff = get_user_model().objects.create_user("root", is_staff=True)
    client.force_login(staff)
    for url in ("/api/v1/tide/pools/", "/api/v1/tide/history/"):
        response = client.delete(url)
        assert response.status_code == 405


def test_schema_documents_both_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    pools = schema["paths"]["/api/v1/tide/pools/"]
    assert set(pools) == {"get"}
    assert {p["name"] for p in pools["get"]["parameters"]} == {"org", "repo", "branch"}
    history = schema["paths"]["/api/v1/tide/history/"]
    assert set(history) == {"get"}
    assert {p["name"] for p in history["get"]["parameters"]} == {
        "org",
        "repo",
        "branch",
        "action",
        "pull",
        "author",
        "cursor",
        "limit",
    }
    components = schema["components"]["schemas"]
    assert {"TidePool", "TidePull", "TideBatch", "TideHistoryRecord"} <= set(components)
    assert "reason" in components["TidePull"]["properties"]
