"""The REST API under /api/v1/: Deck's filters and keyset pages, ProwJobs in
the original's shape, who may rerun, abort and start periodics, config
checks that store nothing, and the staff-only delivery log."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from hook.models import WebhookDelivery
from jobs.horologium import TRIGGERED_BY_ANNOTATION
from jobs.models import ProwJob, ProwJobState, ProwJobType
from prow.config.models import ConfigVersion
from tests.factories import (
    ProwJobFactory,
    PullFactory,
    RefsFactory,
    WebhookDeliveryFactory,
)
from tests.jobs.test_serialization import errors_of

pytestmark = pytest.mark.django_db

CONFIG = """\
prowjob_namespace: prow-jobs
deck:
  rerun_auth_configs:
    acme/app: {github_users: [alice]}
periodics:
- name: nightly
  interval: 24h
  rerun_auth_config: {github_users: [alice]}
  spec: {containers: [{image: busybox, command: [date]}]}
- name: weekly
  interval: 168h
  spec: {containers: [{image: busybox, command: [date]}]}
"""
JOBS = "/api/v1/prowjobs/"


@pytest.fixture(autouse=True)
def config(activate_config):
    return activate_config(config_yaml=CONFIG)


def user(name: str, **extra):
    return get_user_model().objects.create_user(name, password="x", **extra)


def token_client(who) -> Client:
    """A client that signs its requests with the user's API token only; CSRF
    checks stay on to show a token needs no CSRF token."""
    key = Token.objects.create(user=who).key
    return Client(enforce_csrf_checks=True, headers={"authorization": f"Token {key}"})


@pytest.fixture
def alice():
    return token_client(user("alice"))


@pytest.fixture
def mallory():
    return token_client(user("mallory"))


@pytest.fixture
def staff():
    return token_client(user("root", is_staff=True))


def make(n: int, **extra) -> ProwJob:
    """A finished run of acme/app (odd n) or acme/lib (even n), pull n."""
    repo = "app" if n % 2 else "lib"
    fields = {
        "type": ProwJobType.PERIODIC if n % 5 == 0 else ProwJobType.PRESUBMIT,
        "job": f"unit-{n % 3}" if n % 5 else "nightly",
        "state": ProwJobState.FAILURE if n % 3 == 0 else ProwJobState.SUCCESS,
        "author": "alice" if n % 4 else "bob",
        "refs": RefsFactory(repo=repo, pulls=[PullFactory(number=n, sha="abc")]),
        "start_time": timezone.now() - timedelta(minutes=n),
        "completion_time": timezone.now(),
    }
    fields.update(extra)
    return ProwJobFactory(**fields)


def walk(client, url, params=None) -> list[dict]:
    """Every page from `url` on, following `next`."""
    pages, response = [], client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        pages.append(response.json())
        if pages[-1]["next"] is None:
            return pages
        response = client.get(pages[-1]["next"])


def job_names(pages) -> list[str]:
    return [job["metadata"]["name"] for page in pages for job in page["results"]]


# Listing


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"type": "periodic"}, lambda j: j.type == "periodic"),
        ({"repo": "acme"}, lambda j: j.org == "acme"),
        ({"repo": "acme/app"}, lambda j: j.repo == "app"),
        ({"job": "unit-1"}, lambda j: j.job == "unit-1"),
        ({"state": "failure"}, lambda j: j.state == "failure"),
        ({"author": "bob"}, lambda j: j.author == "bob"),
        ({"pull": "7"}, lambda j: j.pull_number == 7),
        ({"q": "NIT-2"}, lambda j: j.job == "unit-2"),
        (
            {"repo": "acme/lib", "state": "failure"},
            lambda j: j.repo == "lib" and j.state == "failure",
        ),
    ],
)
def test_filters_narrow_the_list(client, params, expected):
    jobs = [make(n) for n in range(20)]
    jobs.append(make(20, org="other", repo="x", refs={"org": "other", "repo": "x"}))
    wanted = [str(j.name) for j in reversed(jobs) if expected(j)]
    assert 0 < len(wanted) < len(jobs)
    assert job_names(walk(client, JOBS, params)) == wanted


def test_blank_filters_mean_any_as_in_decks_form(client):
    jobs = [make(n) for n in range(3)]
    response = client.get(JOBS, {"state": "", "repo": "", "q": ""})
    assert job_names([response.json()]) == [str(j.name) for j in reversed(jobs)]


def test_cursor_pages_walk_every_job_once_and_back(client):
    for n in range(23):
        make(n)
    newest_first = [
        str(n) for n in ProwJob.objects.order_by("-id").values_list("name", flat=True)
    ]
    pages = walk(client, JOBS, {"limit": 5})
    assert [len(p["results"]) for p in pages] == [5, 5, 5, 5, 3]
    assert job_names(pages) == newest_first
    assert pages[0]["previous"] is None
    # Back up from the last page: the same pages, in reverse.
    back, page = [], pages[-1]
    while page["previous"] is not None:
        page = client.get(page["previous"]).json()
        back.append([job["metadata"]["name"] for job in page["results"]])
    assert back == [
        [j["metadata"]["name"] for j in p["results"]] for p in pages[-2::-1]
    ]


def test_a_job_started_meanwhile_does_not_shift_the_pages(client):
    for n in range(6):
        make(n)
    first = client.get(JOBS, {"limit": 3}).json()
    make(99)  # newer than everything the client has seen
    second = client.get(first["next"]).json()
    seen = job_names([first, second])
    assert len(set(seen)) == 6
    assert str(ProwJob.objects.get(pull_number=99).name) not in seen


def test_next_links_keep_the_filters(client):
    for n in range(12):
        make(n)
    pages = walk(client, JOBS, {"repo": "acme/app", "limit": 2})
    assert all("repo=acme%2Fapp" in p["next"] for p in pages[:-1])
    repos = {j["spec"]["refs"]["repo"] for p in pages for j in p["results"]}
    assert repos == {"app"} and len(job_names(pages)) == 6


@pytest.mark.parametrize(
    "params, field",
    [
        ({"state": "done"}, "state"),
        ({"type": "nightly"}, "type"),
        ({"repo": "a/b/c"}, "repo"),
        ({"pull": "x1"}, "pull"),
        ({"pull": "\u00b2"}, "pull"),  # a digit to str.isdigit, not to int()
        ({"pull": "-1"}, "pull"),
        ({"pull": "7.0"}, "pull"),
        ({"pull": ""}, "pull"),  # a number, or left out
        ({"job": "a\x00b"}, "job"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "x12"}, "cursor"),
    ],
)
def test_bad_filters_are_400_naming_the_field(client, params, field):
    response = client.get(JOBS, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_every_listed_job_validates_against_the_crd(client):
    built = [
        ProwJobFactory(detailed=True, type=t, state=s)
        for t in ProwJobType
        for s in ProwJobState
    ]
    results = client.get(JOBS, {"limit": 500}).json()["results"]
    # Detailed batch jobs are hidden, and Deck's list leaves hidden jobs out.
    assert len(results) == len([j for j in built if not j.hidden]) == 18
    for document in results:
        assert errors_of(document) == []
        assert document["metadata"]["namespace"] == "prow-jobs"


def test_retrieve_one_job(client):
    # Shown, though the detailed factory hides batch jobs: hidden ones are 404.
    job = ProwJobFactory(detailed=True, batch=True, pending=True, hidden=False)
    response = client.get(f"{JOBS}{job.name}/")
    assert response.status_code == 200
    assert response.json()["metadata"]["name"] == str(job.name)
    assert errors_of(response.json()) == []


@pytest.mark.parametrize("name", ["0f7e9d4c-0000-4000-8000-000000000000", "nope"])
def test_unknown_job_is_404(client, name):
    response = client.get(f"{JOBS}{name}/")
    assert response.status_code == 404
    assert "detail" in response.json()


# Rerun, abort, run a periodic


def test_rerun_needs_a_login(client):
    job = make(1)
    response = client.post(f"{JOBS}{job.name}/rerun/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert ProwJob.objects.count() == 1


def test_rerun_needs_the_jobs_rerun_rights(mallory):
    job = make(1)  # acme/app: alice only
    assert mallory.post(f"{JOBS}{job.name}/rerun/").status_code == 403
    assert ProwJob.objects.count() == 1


def test_rerun_with_a_token(alice):
    job = make(1, state=ProwJobState.FAILURE)
    response = alice.post(f"{JOBS}{job.name}/rerun/")
    assert response.status_code == 201
    new = ProwJob.objects.exclude(pk=job.pk).get()
    assert response.json()["metadata"]["name"] == str(new.name)
    assert errors_of(response.json()) == []
    assert (new.job, new.refs, new.state) == (job.job, job.refs, "triggered")
    assert new.annotations[TRIGGERED_BY_ANNOTATION] == "alice"


def test_actions_are_recorded_under_the_github_login():
    from allauth.socialaccount.models import SocialAccount

    local = user("alice-local")
    SocialAccount.objects.create(
        user=local, provider="github", uid="1", extra_data={"login": "alice"}
    )
    client = token_client(local)
    job = make(1)
    assert client.post(f"{JOBS}{job.name}/rerun/").status_code == 201
    new = ProwJob.objects.exclude(pk=job.pk).get()
    assert new.annotations[TRIGGERED_BY_ANNOTATION] == "alice"
    assert client.post(f"{JOBS}{new.name}/abort/").status_code == 200
    new.refresh_from_db()
    assert new.description == "Aborted by alice."


def test_a_session_needs_its_csrf_token():
    job = make(1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user("alice"))
    response = client.post(f"{JOBS}{job.name}/rerun/")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert ProwJob.objects.count() == 1


def test_rerun_of_an_unknown_job_is_404(alice):
    assert (
        alice.post(f"{JOBS}0f7e9d4c-0000-4000-8000-000000000000/rerun/").status_code
        == 404
    )


def test_abort_rights(client, mallory):
    job = make(1, state=ProwJobState.PENDING, completion_time=None)
    assert client.post(f"{JOBS}{job.name}/abort/").status_code == 401
    assert mallory.post(f"{JOBS}{job.name}/abort/").status_code == 403
    job.refresh_from_db()
    assert job.state == ProwJobState.PENDING


def test_abort_with_a_token(alice):
    job = make(1, state=ProwJobState.PENDING, completion_time=None)
    response = alice.post(f"{JOBS}{job.name}/abort/")
    assert response.status_code == 200
    assert response.json()["status"]["state"] == "aborted"
    job.refresh_from_db()
    assert job.state == ProwJobState.ABORTED
    assert job.completion_time is not None
    assert job.description == "Aborted by alice."


def test_abort_of_a_finished_job_is_409(alice):
    job = make(1, state=ProwJobState.SUCCESS)
    response = alice.post(f"{JOBS}{job.name}/abort/")
    assert response.status_code == 409
    assert "success" in response.json()["detail"]
    job.refresh_from_db()
    assert job.state == ProwJobState.SUCCESS


def test_run_a_periodic(client, mallory, alice, staff):
    url = "/api/v1/periodics/nightly/run/"
    assert client.post(url).status_code == 401
    assert mallory.post(url).status_code == 403
    assert not ProwJob.objects.exists()
    response = alice.post(url)
    assert response.status_code == 201
    job = ProwJob.objects.get()
    assert (job.job, job.type) == ("nightly", "periodic")
    assert response.json()["metadata"]["name"] == str(job.name)
    assert errors_of(response.json()) == []
    # weekly has no rules of its own and no repo: staff only.
    assert alice.post("/api/v1/periodics/weekly/run/").status_code == 403
    assert staff.post("/api/v1/periodics/weekly/run/").status_code == 201


def test_unknown_periodic_is_404(alice):
    assert alice.post("/api/v1/periodics/nope/run/").status_code == 404
    assert not ProwJob.objects.exists()


# Config


def test_active_config_and_its_history(client, config, activate_config):
    newer = activate_config(config_yaml=CONFIG + "# second\n", comment="two")
    active = client.get("/api/v1/config/").json()
    assert (active["id"], active["comment"]) == (newer.pk, "two")
    assert active["config_yaml"].endswith("# second\n")
    assert active["plugins_yaml"] == ""
    pages = walk(client, "/api/v1/config/versions/", {"limit": 1})
    assert [p["results"][0]["id"] for p in pages] == [newer.pk, config.pk]
    assert "config_yaml" not in pages[0]["results"][0]
    detail = client.get(f"/api/v1/config/versions/{config.pk}/").json()
    assert detail["config_yaml"] == CONFIG
    assert client.get("/api/v1/config/versions/999999/").status_code == 404


def test_no_config_yet_is_404(client, config):
    config.delete()
    assert client.get("/api/v1/config/").status_code == 404


BAD_CONFIG = """\
periodics:
- name: nightly
  interval: 24h
  spec: {containers: [{image: busybox}]}
- name: nightly
  cron: "61 * * * *"
  spec: {containers: [{image: busybox}]}
"""


def test_validate_reports_numbered_lines_and_stores_nothing(alice):
    before = ConfigVersion.objects.count()
    response = alice.post(
        "/api/v1/config/validate/",
        {"config_yaml": BAD_CONFIG},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert {e["file"] for e in body["errors"]} == {"config.yaml"}
    assert all(isinstance(e["line"], int) and e["line"] >= 1 for e in body["errors"])
    assert any(e["line"] in (5, 6) for e in body["errors"]), body["errors"]
    assert ConfigVersion.objects.count() == before


def test_validate_reports_yaml_syntax_errors_by_line(alice):
    response = alice.post(
        "/api/v1/config/validate/",
        {"plugins_yaml": "plugins:\n  acme/app: [lgtm\n"},
        content_type="application/json",
    )
    errors = response.json()["errors"]
    assert response.json()["valid"] is False
    assert [(e["file"], e["line"] is not None) for e in errors] == [
        ("plugins.yaml", True)
    ]


def test_validate_accepts_a_good_config(alice):
    response = alice.post(
        "/api/v1/config/validate/",
        {
            "config_yaml": CONFIG,
            "plugins_yaml": "plugins:\n  acme/app: {plugins: [lgtm]}\n",
        },
        content_type="application/json",
    )
    assert response.json() == {"valid": True, "errors": [], "warnings": []}


def test_a_file_left_out_is_the_active_one(alice):
    response = alice.post(
        "/api/v1/config/validate/",
        {"plugins_yaml": "plugins:\n  acme/app: {plugins: [no-such-plugin]}\n"},
        content_type="application/json",
    )
    body = response.json()
    # Only plugins.yaml was sent; the stored config.yaml is checked with it.
    assert body["valid"] is False
    assert {e["file"] for e in body["errors"]} == {"plugins.yaml"}
    empty = alice.post("/api/v1/config/validate/", {}, content_type="application/json")
    assert empty.json() == {"valid": True, "errors": [], "warnings": []}


def test_validate_takes_json_text_from_a_logged_in_user(alice, client):
    url = "/api/v1/config/validate/"
    assert (
        client.post(
            url, {"config_yaml": CONFIG}, content_type="application/json"
        ).status_code
        == 401
    )
    not_text = alice.post(url, {"config_yaml": 5}, content_type="application/json")
    assert not_text.status_code == 400 and list(not_text.json()) == ["config_yaml"]
    control = alice.post(
        url, {"config_yaml": "a: 1\nb: \x01\n"}, content_type="application/json"
    )
    assert control.json() == {
        "config_yaml": ["line 2: character U+0001 cannot appear in YAML"]
    }
    # A form post would make every value text; only JSON is taken.
    assert alice.post(url, {"config_yaml": CONFIG}).status_code == 415


def billion_laughs(levels: int) -> str:
    text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for n in range(1, levels + 1):
        text += f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n"
    return text


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "jobs: &loop [*loop]\n",
            "line 1: an alias refers to a value that contains it",
        ),
        (billion_laughs(9), "aliases expand this YAML to 12345679021 values"),
    ],
)
def test_yaml_whose_aliases_never_end_is_refused_at_once(alice, staff, text, message):
    for client, url in ((alice, "validate/"), (staff, "versions/")):
        response = client.post(
            f"/api/v1/config/{url}",
            {"config_yaml": text, "plugins_yaml": ""},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert response.json()["config_yaml"][0].startswith(message)
    assert ConfigVersion.objects.count() == 1


def test_staff_store_a_new_version(staff, alice, client):
    url = "/api/v1/config/versions/"
    body = {
        "config_yaml": CONFIG + "# three\n",
        "plugins_yaml": "",
        "comment": "via API",
    }
    assert alice.post(url, body, content_type="application/json").status_code == 403
    rejected = staff.post(
        url, {**body, "config_yaml": BAD_CONFIG}, content_type="application/json"
    )
    assert rejected.status_code == 422
    assert rejected.json()["valid"] is False
    half = staff.post(url, {"config_yaml": CONFIG}, content_type="application/json")
    assert half.status_code == 400 and list(half.json()) == ["plugins_yaml"]
    assert ConfigVersion.objects.count() == 1
    created = staff.post(url, body, content_type="application/json")
    assert created.status_code == 201
    version = ConfigVersion.objects.get(pk=created.json()["id"])
    assert (version.source, version.author_name, version.comment) == (
        "api",
        "root",
        "via API",
    )
    assert client.get("/api/v1/config/").json()["id"] == version.pk


# Webhook deliveries


def delivery(guid: str, **extra) -> WebhookDelivery:
    fields = {
        "payload": {"secret": "private repo body"},
        "status": WebhookDelivery.Status.DONE,
    }
    fields.update(extra)
    return WebhookDeliveryFactory(guid=guid, **fields)


@pytest.mark.parametrize(
    "method, path",
    [("get", ""), ("get", "g-1/"), ("post", "g-1/replay/")],
)
def test_deliveries_are_staff_only(client, alice, method, path):
    delivery("g-1")
    url = f"/api/v1/deliveries/{path}"
    assert getattr(client, method)(url).status_code == 401
    response = getattr(alice, method)(url)
    assert response.status_code == 403
    assert "private repo body" not in response.content.decode()
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DONE


def test_staff_list_and_filter_deliveries(staff):
    delivery("g-1")
    delivery("g-2", event="push")
    delivery("g-3", org="other", repo="x", status=WebhookDelivery.Status.FAILED)

    def guids(params):
        pages = walk(staff, "/api/v1/deliveries/", {"limit": 1, **params})
        return [d["guid"] for p in pages for d in p["results"]]

    assert guids({}) == ["g-3", "g-2", "g-1"]
    assert guids({"event": "push"}) == ["g-2"]
    assert guids({"repo": "acme"}) == ["g-2", "g-1"]
    assert guids({"repo": "other/x", "status": "failed"}) == ["g-3"]
    assert staff.get("/api/v1/deliveries/", {"status": "lost"}).status_code == 400
    first = staff.get("/api/v1/deliveries/").json()["results"][0]
    assert "payload" not in first and first["repo"] == "other/x"
    detail = staff.get("/api/v1/deliveries/g-1/").json()
    assert detail["payload"] == {"secret": "private repo body"}
    assert staff.get("/api/v1/deliveries/nope/").status_code == 404
    assert staff.get("/api/v1/deliveries/g-1%00/").status_code == 404


def test_staff_replay_a_delivery(staff, django_capture_on_commit_callbacks):
    delivery("g-1", status=WebhookDelivery.Status.FAILED, plugin_results={"lgtm": "ok"})
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff.post(
            "/api/v1/deliveries/g-1/replay/",
            {"all_plugins": True},
            content_type="application/json",
        )
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    stored = WebhookDelivery.objects.get()
    assert (stored.status, stored.plugin_results) == ("pending", {})
    # The handling is enqueued once the request's transaction commits.
    assert len(callbacks) == 1


def test_unknown_api_addresses_answer_in_json(client):
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such API endpoint."}
    assert "/api/v1/prowjobs/ ?" in client.get("/api/v1/prowjobs").json()["detail"]
    assert client.get("/api/v1/config/versions/latest/").status_code == 404


# Schema and docs page


def test_schema_and_docs_page(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/prowjobs/{name}/rerun/" in schema["paths"]
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/schema/" in html
    assert "cdn" not in html.lower()


def test_docs_page_assets_are_served_locally(client, settings):
    # Idempotent: a no-op once the sidecar is in INSTALLED_APPS.
    if "drf_spectacular_sidecar" not in settings.INSTALLED_APPS:
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "drf_spectacular_sidecar"]
    html = Client().get("/api/docs/").content.decode()
    bundle = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    assert bundle in html
    response = Client().get(bundle)
    assert response.status_code == 200
    assert b"SwaggerUI" in b"".join(response.streaming_content)
