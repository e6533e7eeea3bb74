"""A refused job-list filter: every bad field is named, what was typed is
kept, and no unfiltered rows are shown under the error."""

import pytest
from playwright.sync_api import expect

from deck.queries import FilterError, JobFilters
from tests.deck.test_browser import chromium, make, media, page, shot  # noqa: F401


def test_every_bad_field_is_reported():
    with pytest.raises(FilterError) as caught:
        JobFilters.from_query({"state": "bogus", "type": "xyz", "pull": "x1"})
    assert [name for name, _ in caught.value.problems] == ["type", "state", "pull"]
    assert (caught.value.name, caught.value.message) == (
        "type",
        "must be one of presubmit, postsubmit, periodic, batch",
    )


@pytest.mark.django_db
def test_bad_filters_list_no_rows_and_keep_the_text(client):
    make(1)
    response = client.get("/", {"state": "bogus", "type": "xyz", "repo": "acme/app"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Filter type: must be one of" in html
    assert "Filter state: must be one of" in html
    assert response.context["page"].rows == []
    assert "<option selected>bogus</option>" in html
    assert "<option selected>xyz</option>" in html
    assert 'value="acme/app"' in html
    assert "hx-trigger" not in html.split('id="job-rows"')[1].split(">")[0]


@pytest.mark.django_db(transaction=True)
def test_bad_filters_in_the_browser(page, live_server):  # noqa: F811
    for n in range(3):
        make(n)
    page.goto(f"{live_server.url}/?state=bogus&type=xyz&author=alice")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Filter type: must be one of")
    expect(alert).to_contain_text("Filter state: must be one of")
    expect(page.locator("#job-rows tr[data-state]")).to_have_count(0)
    expect(page.locator("select[name=state]")).to_have_value("bogus")
    expect(page.locator("select[name=type]")).to_have_value("xyz")
    expect(page.locator("input[name=author]")).to_have_value("alice")
    shot(page, "job-list-bad-filters")
