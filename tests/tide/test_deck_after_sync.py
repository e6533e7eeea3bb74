"""What a sync stores is what Deck and the API show."""

import pytest

from tests.tide.test_scenarios import ORG, REPO, open_pull
from tide import sync

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def synced(github):
    open_pull(github, 1, labels=("lgtm",))
    open_pull(github, 2, base="0" * 40)
    open_pull(github, 3, base="0" * 40)
    sync.sync()
    return github


def test_the_tide_page_shows_the_pool_its_batch_and_each_reason(client, synced):
    page = client.get("/tide", {"repo": f"{ORG}/{REPO}"})
    assert page.status_code == 200
    text = page.content.decode()
    assert f"{ORG}/{REPO}" in text and "main" in text
    assert "Not mergeable. Retesting: unit" in text
    assert "batch" in text.lower()


def test_tide_js_and_the_api_list_the_pool(client, synced):
    data = client.get("/tide.js").json()
    (pool,) = data["Pools"]
    assert (pool["Org"], pool["Repo"], pool["Branch"]) == (ORG, REPO, "main")
    assert pool["Action"] == "TRIGGER_BATCH"
    assert sorted(pr["Number"] for pr in pool["MissingPRs"]) == [2, 3]
    assert sorted(pr["Number"] for pr in pool["Target"]) == [2, 3]
    assert data["Queries"] and "lgtm" in data["Queries"][0]
    history = client.get("/tide-history.js").json()["History"]
    (records,) = history.values()
    assert records[0]["action"] == "TRIGGER_BATCH"
    pools = client.get("/api/v1/tide/pools/").json()
    assert [p["branch"] for p in pools] == ["main"]
