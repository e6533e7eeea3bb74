"""GraphQL calls: GitHubClient.graphql and the Projects (v2) helpers against
the GitHub double, which runs each query against GitHub's real schema."""

import logging

import pytest

from prow.github import graphql, projects
from prow.github.client import GitHubError, GitHubTransientError, github_client

QUERY = "query Me($org: String!) { organization(login: $org) { login } }"


@pytest.fixture
def gql(fake, settings, waits):
    settings.PROW_GITHUB_GRAPHQL_ENDPOINT = f"{fake.url}/graphql"
    return github_client("org")


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://api.github.com/", "https://api.github.com/graphql"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql"),
        ("https://ghe.example.com/api/v3/", "https://ghe.example.com/api/graphql"),
        ("http://127.0.0.1:9999", "http://127.0.0.1:9999/graphql"),
    ],
)
def test_the_endpoint_beside_a_rest_endpoint(rest, expected):
    assert graphql.endpoint_for(rest) == expected


def test_without_the_setting_the_endpoint_is_derived(fake, settings, waits):
    settings.PROW_GITHUB_GRAPHQL_ENDPOINT = ""
    gh = github_client("org")
    assert gh.graphql_url == f"{fake.url}/graphql"
    assert gh.graphql("me", QUERY, {"org": "org"}) == {"organization": {"login": "org"}}


def test_github_enterprise_path_is_served_too(fake, settings, waits):
    settings.PROW_GITHUB_GRAPHQL_ENDPOINT = f"{fake.url}/api/graphql"
    data = github_client("org").graphql("me", QUERY, {"org": "org"})
    assert data == {"organization": {"login": "org"}}
    assert [r.path for r in fake.requests("POST")] == ["/api/graphql"]


def test_the_request_is_authenticated_and_carries_the_variables(fake, gql):
    gql.graphql("me", QUERY, {"org": "org"})
    (request,) = fake.requests("POST", "/graphql")
    assert request.headers["authorization"] == "token first-token"
    assert request.body == {"query": QUERY, "variables": {"org": "org"}}


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ('{ organization(login: "org") { nope } }', "Cannot query field 'nope'"),
        ('{ organization(name: "org") { login } }', "Unknown argument 'name'"),
        ("{ organization { login } }", "argument 'login' of type 'String!'"),
        ("query { organization(login: 1) { login } }", "String cannot represent"),
        ('{ organization(login: "org") { login ', "Syntax Error"),
    ],
)
def test_a_query_github_would_refuse_is_a_permanent_error(gql, query, words):
    with pytest.raises(GitHubError) as raised:
        gql.graphql("bad query", query)
    assert not isinstance(raised.value, GitHubTransientError)
    assert words in str(raised.value)


def test_not_found_is_a_404(gql):
    with pytest.raises(GitHubError) as raised:
        gql.graphql("me", QUERY, {"org": "nobody"})
    assert raised.value.status == 404
    assert "Could not resolve to an Organization" in str(raised.value)


def test_a_graphql_rate_limit_is_transient_with_a_wait(fake, gql):
    limited = [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]
    fake.fail_graphql("organization", 200, errors=limited)
    with pytest.raises(GitHubTransientError) as raised:
        gql.graphql("me", QUERY, {"org": "org"})
    assert raised.value.retry_after == graphql.RATE_LIMIT_WAIT


def test_a_5xx_is_transient_and_the_write_is_not_sent_again(fake, gql):
    fake.fail_graphql("organization", 502)
    with pytest.raises(GitHubTransientError):
        gql.graphql("me", QUERY, {"org": "org"}, write=True)
    assert len(fake.requests("POST", "/graphql")) == 1


@pytest.mark.parametrize(
    ("errors", "transient", "status"),
    [
        ([{"type": "NOT_FOUND", "message": "x"}], False, 404),
        ([{"type": "FORBIDDEN", "message": "x"}], False, 403),
        ([{"type": "INTERNAL", "message": "x"}], True, None),
        ([{"message": "Something went wrong while executing your query."}], True, None),
        ([{"message": "Field 'x' doesn't exist on type 'Y'"}], False, None),
        (["a bare string"], False, None),
    ],
)
def test_what_an_error_list_means(errors, transient, status):
    failure = graphql.failure_of(errors)
    assert (failure.transient, failure.status) == (transient, status)


def test_writes_are_logged_not_sent_in_dry_mode(fake, settings, caplog, waits):
    settings.PROW_GITHUB_TOKEN_PATH = ""
    settings.PROW_GITHUB_GRAPHQL_ENDPOINT = f"{fake.url}/graphql"
    fake.require_auth = False
    board = fake.add_project_v2("org", "Roadmap")
    fake.add_issue("org", "repo", number=1)
    gh = github_client("org")
    (found,) = projects.org_boards(gh, "org")
    with caplog.at_level(logging.INFO, logger="prow.github.client"):
        assert projects.add_item(gh, found, "some-id") == ""
    assert board.items == []
    assert "dry run, not sent" in caplog.text


def test_boards_are_read_across_pages(fake, gql):
    titles = [f"board {n:03d}" for n in range(230)]
    for title in titles:
        fake.add_project_v2("org", title)
    boards = projects.org_boards(gql, "org")
    assert [b.title for b in boards] == titles
    assert len(fake.requests("POST", "/graphql")) == 3
    assert [o.name for o in boards[0].statuses] == ["Todo", "In Progress", "Done"]


def test_an_issue_on_boards_and_the_writes(fake, gql):
    fake.add_issue("org", "repo", number=3)
    board = fake.add_project_v2("org", "Roadmap")
    other = fake.add_project_v2("org", "Other")
    fake.add_project_v2_item(other, "org", "repo", 3, "Done")
    (roadmap, _) = projects.org_boards(gql, "org")

    content = projects.content(gql, "org", "repo", 3)
    assert content.item_on(roadmap) is None
    item_id = projects.add_item(gql, roadmap, content.id)
    assert projects.add_item(gql, roadmap, content.id) == item_id
    projects.set_status(gql, roadmap, item_id, roadmap.status("in progress"))
    assert board.status_of(board.item_for("org", "repo", 3)) == "In Progress"

    again = projects.content(gql, "org", "repo", 3)
    assert {(i.board_id, i.status) for i in again.items} == {
        (board.id, "In Progress"),
        (other.id, "Done"),
    }
    projects.delete_item(gql, roadmap, item_id)
    projects.delete_item(gql, roadmap, item_id)  # already gone: fine
    assert board.items == []


def test_a_status_the_field_does_not_offer_is_refused(fake, gql):
    fake.add_issue("org", "repo", number=3)
    fake.add_project_v2("org", "Roadmap")
    (roadmap,) = projects.org_boards(gql, "org")
    item_id = projects.add_item(
        gql, roadmap, projects.content(gql, "org", "repo", 3).id
    )
    bogus = projects.StatusOption("opt_nope", "Nope")
    with pytest.raises(GitHubError) as raised:
        projects.set_status(gql, roadmap, item_id, bogus)
    assert raised.value.status == 422
