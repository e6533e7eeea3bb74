"""Deck's Tide pages: /tide shows each merge pool with its pull requests
and why each waits, its batches and blockers; /tide-history lists what
Tide did, filtered and paged; the PR page says what Tide knows of one pull
request. Hidden repositories stay hidden on all of them."""

import re
import uuid

import pytest

from prow.config.schema import TideQuery
from tests.factories import TideHistoryFactory, TidePoolFactory, tide_pull
from tide.models import Action, HistoryRecord, WrittenStatus
from tide.queries_text import org_query_texts, query_text

pytestmark = pytest.mark.django_db

RECORD = re.compile(r'<tr id="record-([0-9]+)"')
BATCH_JOB = uuid.UUID("0c7d3f4e-55b1-4a8e-9d2c-6e1f0a9b8c7d")

CONFIG = """\
tide:
  queries:
  - repos: [acme/app]
    labels: [lgtm, approved]
    missingLabels: [do-not-merge/hold]
  - orgs: [kubernetes]
    excludedRepos: [kubernetes/website]
    includedBranches: [main]
    milestone: v1.30
    author: bot
    reviewApprovedRequired: true
deck:
  tide_update_period: 3s
"""


def page_of(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def busy_pool(**fields):
    """acme/app:main with a PR in each group, a pending batch of #1 and #2,
    and a blocker."""
    return TidePoolFactory(
        action=Action.TRIGGER_BATCH,
        success_prs=[tide_pull(1)],
        pending_prs=[tide_pull(2, reason="Not mergeable. Retesting: unit")],
        missing_prs=[
            tide_pull(3, author="carol", reason="Not mergeable. Needs lgtm label.")
        ],
        target=[tide_pull(1), tide_pull(2)],
        batches=[
            {
                "pulls": [tide_pull(1), tide_pull(2)],
                "state": "pending",
                "jobs": [
                    {
                        "name": str(BATCH_JOB),
                        "job": "batch-unit",
                        "state": "pending",
                        "url": f"http://deck/view/{BATCH_JOB}",
                    }
                ],
            }
        ],
        blockers=[
            {
                "number": 99,
                "title": "Freeze for the release",
                "url": "https://github.com/acme/app/issues/99",
            }
        ],
        **fields,
    )


# Query strings


def test_query_strings_carry_every_configured_token():
    query = TideQuery(
        orgs=["kubernetes"],
        repos=["acme/app"],
        excludedRepos=["kubernetes/website"],
        labels=["lgtm", "approved,admin-approved"],
        missingLabels=["do-not-merge/hold"],
        includedBranches=["main"],
        milestone="v1.30",
        author="bot",
        reviewApprovedRequired=True,
    )
    assert query_text(query) == (
        'is:pr state:open archived:false author:"bot" base:"main" label:"lgtm"'
        ' label:"approved","admin-approved" -label:"do-not-merge/hold"'
        ' milestone:"v1.30" review:approved'
        ' org:"kubernetes" -repo:"kubernetes/website" repo:"acme/app"'
    )
    by_org = org_query_texts(query)
    assert set(by_org) == {"kubernetes", "acme"}
    assert by_org["acme"].endswith('review:approved repo:"acme/app"')
    assert 'org:"kubernetes" -repo:"kubernetes/website"' in by_org["kubernetes"]
    assert "acme" not in by_org["kubernetes"]


def test_excluded_branches_become_negated_base_tokens():
    text = query_text(TideQuery(repos=["o/r"], excludedBranches=["old", "gh-pages"]))
    assert text == (
        'is:pr state:open archived:false -base:"old" -base:"gh-pages" repo:"o/r"'
    )


# /tide


def test_tide_page_shows_queries_pools_reasons_batches_and_blockers(
    client, activate_config
):
    activate_config(config_yaml=CONFIG)
    busy_pool()
    html = page_of(client, "/tide")
    searches = re.findall(r"<li><code>([^<]+)</code></li>", html)
    assert [s.replace("&quot;", '"') for s in searches] == [
        'is:pr state:open archived:false label:"lgtm" label:"approved"'
        ' -label:"do-not-merge/hold" repo:"acme/app"',
        'is:pr state:open archived:false author:"bot" base:"main"'
        ' milestone:"v1.30" review:approved'
        ' org:"kubernetes" -repo:"kubernetes/website"',
    ]
    pool = html.split('id="pool-acme-app-main"')[1]
    assert 'data-action="TRIGGER_BATCH"' in html
    assert (
        'href="https://github.com/acme/app/commit/' + "b" * 40 + '">bbbbbbb</a>' in pool
    )
    # Each PR in its group, with the reason it waits.
    assert re.search(r'id="pr-acme-app-1" data-group="success"', pool)
    assert re.search(r'id="pr-acme-app-2" data-group="pending"', pool)
    missing = pool.split('id="pr-acme-app-3"')[1].split("</tr>")[0]
    assert 'data-group="missing"' in missing
    assert "Not mergeable. Needs lgtm label." in missing
    assert ">carol</a>" in missing
    assert "Not mergeable. Retesting: unit" in pool
    # The batch in flight links to its job's page in Deck.
    batch = pool.split('class="batch"')[1].split("</tr>")[0]
    assert 'data-state="pending"' in batch
    assert f'href="/view/{BATCH_JOB}">batch-unit</a>' in batch
    assert (
        'href="https://github.com/acme/app/issues/99">#99 Freeze for the release'
        in pool
    )
    # The page refreshes itself every deck.tide_update_period.
    assert 'hx-trigger="every 3s [!document.hidden]"' in html
    assert 'href="/tide"' in html  # the nav links here


def test_tide_page_shows_a_sync_error(client):
    TidePoolFactory(error="GitHub said 502", action=Action.ERROR)
    html = page_of(client, "/tide")
    assert "Sync error: GitHub said 502" in html


def test_tide_page_refresh_answers_with_the_pools_alone(client):
    busy_pool()
    html = client.get("/tide", headers={"HX-Request": "true"}).content.decode()
    assert html.lstrip().startswith('<div id="pools"')
    assert "<header" not in html
    assert "Not mergeable. Needs lgtm label." in html


def test_tide_page_filters_pools_by_repo_org_and_branch(client):
    TidePoolFactory(org="acme", repo="app", branch="main")
    TidePoolFactory(org="acme", repo="app", branch="release-1")
    TidePoolFactory(org="acme", repo="lib", branch="main")
    TidePoolFactory(org="other", repo="app", branch="main")

    def shown(query):
        html = page_of(client, "/tide" + query)
        return sorted(re.findall(r'<section class="pool" id="pool-([^"]+)"', html))

    assert shown("") == [
        "acme-app-main",
        "acme-app-release-1",
        "acme-lib-main",
        "other-app-main",
    ]
    assert shown("?repo=acme") == [
        "acme-app-main",
        "acme-app-release-1",
        "acme-lib-main",
    ]
    assert shown("?repo=acme/app") == ["acme-app-main", "acme-app-release-1"]
    assert shown("?repo=acme/app&branch=release-1") == ["acme-app-release-1"]
    assert shown("?repo=nobody") == []
    assert "No merge pools match these filters." in page_of(client, "/tide?repo=x")


def test_tide_page_refuses_a_bad_filter(client):
    TidePoolFactory()
    html = page_of(client, "/tide?repo=a/b/c", status=400)
    assert "Filter repo: must look like org or org/repo" in html
    assert 'id="pool-' not in html


def test_empty_tide_page_says_why(client):
    html = page_of(client, "/tide")
    assert "No Tide queries are configured" in html
    assert "No merge pools yet" in html
    history = page_of(client, "/tide-history")
    assert "Tide has not merged or tested anything yet." in history


def test_hidden_repositories_stay_off_the_tide_pages(client, activate_config):
    activate_config(config_yaml="deck:\n  hidden_repos: [secret, acme/private]\n")
    TidePoolFactory(org="acme", repo="app")
    TidePoolFactory(org="acme", repo="private")
    TidePoolFactory(org="secret", repo="thing")
    TideHistoryFactory(org="acme", repo="private")
    TideHistoryFactory(org="secret", repo="thing")
    shown = TideHistoryFactory(org="acme", repo="app")
    html = page_of(client, "/tide")
    assert 'id="pool-acme-app-main"' in html
    assert "private" not in html and "secret" not in html
    history = page_of(client, "/tide-history")
    assert RECORD.findall(history) == [str(shown.id)]
    assert "private" not in history and "secret" not in history
    assert RECORD.findall(page_of(client, "/tide-history?repo=acme/private")) == []
    assert 'id="pool-' not in page_of(client, "/tide?repo=secret")
    # The PR page of a hidden repository says nothing of Tide.
    pr = page_of(client, "/pr/acme/private/7")
    assert "Tide says" not in pr and "merge pool" not in pr


# /tide-history


def test_history_pages_walk_every_record_once_newest_first(client):
    records = [TideHistoryFactory() for _ in range(120)]
    newest_first = [str(r.id) for r in reversed(records)]
    html = page_of(client, "/tide-history")
    first = RECORD.findall(html)
    assert first == newest_first[:50]
    older = re.search(r'<a rel="next" href="\?([^"]+)"', html).group(1)
    second = RECORD.findall(page_of(client, "/tide-history?" + older))
    assert second == newest_first[50:100]
    html = page_of(client, "/tide-history?" + older)
    third_link = re.search(r'<a rel="next" href="\?([^"]+)"', html).group(1)
    third_html = page_of(client, "/tide-history?" + third_link.replace("&amp;", "&"))
    assert RECORD.findall(third_html) == newest_first[100:]
    assert 'rel="next"' not in third_html
    back = re.search(r'<a rel="prev" href="\?([^"]+)"', third_html).group(1)
    assert RECORD.findall(page_of(client, "/tide-history?" + back)) == second


def test_history_rows_show_time_pool_action_base_targets_and_error(client):
    record = TideHistoryFactory(
        action=Action.MERGE_BATCH,
        targets=[
            {"number": 4, "author": "bob", "sha": "4" * 40, "title": "Four"},
            {"number": 5, "author": "eve", "sha": "5" * 40, "title": "Five"},
        ],
        error="failed merging [5]: head modified",
    )
    html = page_of(client, "/tide-history")
    row = html.split(f'id="record-{record.id}"')[1].split("</tr>")[0]
    assert 'data-action="MERGE_BATCH"' in row
    assert "acme/app:main" in row
    assert f'datetime="{record.created.isoformat()}"' in row
    assert 'href="https://github.com/acme/app/commit/' + "b" * 40 + '">bbbbbbb' in row
    assert 'href="https://github.com/acme/app/pull/4"' in row
    assert 'href="https://github.com/acme/app/pull/5"' in row
    assert "failed merging [5]: head modified" in row


def test_history_filters(client):
    merge = TideHistoryFactory()  # acme/app:main #7 by alice
    trigger = TideHistoryFactory(
        action=Action.TRIGGER,
        branch="release-1",
        targets=[{"number": 8, "author": "bob", "sha": "8" * 40}],
    )
    other = TideHistoryFactory(
        repo="lib",
        action=Action.TRIGGER_BATCH,
        targets=[
            {"number": 7, "author": "bob", "sha": "7" * 40},
            {"number": 70, "author": "carol", "sha": "0" * 40},
        ],
    )

    def shown(query):
        return {
            int(i) for i in RECORD.findall(page_of(client, "/tide-history" + query))
        }

    assert shown("") == {merge.id, trigger.id, other.id}
    assert shown("?repo=acme/app") == {merge.id, trigger.id}
    assert shown("?repo=acme/app&branch=release-1") == {trigger.id}
    assert shown("?action=TRIGGER") == {trigger.id}
    assert shown("?action=TRIGGER_BATCH") == {other.id}
    # A PR number matches a target exactly: 7 is not 70.
    assert shown("?pull=7") == {merge.id, other.id}
    assert shown("?pull=70") == {other.id}
    assert shown("?author=bob") == {trigger.id, other.id}
    assert shown("?author=carol&pull=70") == {other.id}
    assert shown("?author=nobody") == set()
    bad = page_of(client, "/tide-history?action=EXPLODE&pull=x", status=400)
    assert "Filter action: must be one of" in bad
    assert "Filter pull: must be a pull request number" in bad


def test_history_newest_page_refreshes_and_older_pages_do_not(client):
    for _ in range(51):
        TideHistoryFactory()
    html = page_of(client, "/tide-history")
    assert 'hx-trigger="every 10s [!document.hidden]"' in html
    older = re.search(r'<a rel="next" href="\?([^"]+)"', html).group(1)
    assert "hx-trigger" not in page_of(client, "/tide-history?" + older)
    fragment = client.get("/tide-history", headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<tbody id="records"')


# The PR page


def test_pr_page_says_which_pool_why_and_batches(client):
    busy_pool()
    TideHistoryFactory(
        action=Action.TRIGGER_BATCH,
        targets=[{"number": 1}, {"number": 2, "author": "alice", "sha": "2"}],
    )
    TideHistoryFactory(action=Action.MERGE, targets=[{"number": 20}])
    html = page_of(client, "/pr/acme/app/2")
    tide = html.split('<section id="tide">')[1].split("</section>")[0]
    assert "acme/app:main" in tide
    assert "pending" in tide
    assert "Tide says: <strong>Not mergeable. Retesting: unit</strong>" in tide
    assert f'href="/view/{BATCH_JOB}">batch-unit</a>' in tide
    history = tide.split('id="tide-history"')[1]
    assert history.count('data-action="TRIGGER_BATCH"') == 1
    assert 'data-action="MERGE"' not in history  # #20, not #2


def test_pr_page_outside_any_pool_shows_the_written_status(client):
    TidePoolFactory()  # holds #7 only
    WrittenStatus.objects.create(
        org="acme",
        repo="app",
        number=12,
        head_sha="c" * 40,
        state="pending",
        description="Not mergeable. Needs approved label.",
    )
    html = page_of(client, "/pr/acme/app/12")
    tide = html.split('<section id="tide">')[1].split("</section>")[0]
    assert "Not in any Tide merge pool." in tide
    assert "Not mergeable. Needs approved label." in tide
    assert "status pending" in tide


def test_history_of_one_pool_is_one_click_from_the_pool(client):
    busy_pool()
    html = page_of(client, "/tide")
    assert 'href="/tide-history?repo=acme/app&amp;branch=main">history</a>' in html
    assert HistoryRecord.objects.count() == 0


def test_nul_in_a_filter_is_refused_not_sent_to_the_database(client):
    html = page_of(client, "/tide-history?author=a%00b&branch=x%00", status=400)
    assert "Filter branch: must not contain NUL" in html
    assert "Filter author: must not contain NUL" in html
