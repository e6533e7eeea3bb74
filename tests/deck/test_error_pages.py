"""Deck's own 404, 403 and 500 pages: they say what happened and lead back."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.views import defaults
from playwright.sync_api import expect

from tests.deck.test_browser import chromium, media, page, shot  # noqa: F401


@pytest.mark.django_db
def test_unknown_pages_get_decks_404_with_navigation(client):
    for path in ("/view/nope", "/job-history/nope", "/no/such/page"):
        response = client.get(path)
        assert response.status_code == 404, path
        html = response.content.decode()
        assert "Not found" in html
        assert 'href="/jobs"' in html and 'class="topbar"' in html
    history = client.get("/job-history/nope").content.decode()
    assert "No job called nope has run or is configured" in history
    assert "Resolver404" not in client.get("/view/nope").content.decode()


@pytest.mark.django_db
def test_403_and_500_pages():
    request = RequestFactory().get("/view/x")
    request.user = None
    denied = defaults.permission_denied(request, PermissionDenied())
    assert denied.status_code == 403
    assert "Not allowed" in denied.content.decode()
    broken = defaults.server_error(request)
    assert broken.status_code == 500
    html = broken.content.decode()
    assert "Server error" in html and 'href="/jobs"' in html


@pytest.mark.django_db(transaction=True)
def test_404_in_the_browser_leads_back_to_the_jobs(page, live_server):  # noqa: F811
    page.goto(f"{live_server.url}/job-history/nope")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("#error-detail")).to_have_text(
        "No job called nope has run or is configured"
    )
    shot(page, "deck-404")
    page.locator("main").get_by_role("link", name="All jobs").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("table.jobs")).to_be_visible()
