"""Rows for tests, shaped as the code that makes them in production leaves
them.

`ProwJobFactory()` is a presubmit on pull request acme/app#7, triggered an
hour ago. Give it a `type` and a `state` (or one of the traits `periodic`,
`postsubmit`, `batch`, `pending`, `finished`) and the rest follows: the refs
for that type; the pending and completion times, build id, pod name, URL and
description for that state; the columns Deck filters on (org, repo,
base_ref, pull_number, pull_sha, author) and the labels and annotations,
derived from the refs as jobs.services.prowjob_create derives them. Any field
given is kept as given. `detailed=True` sets every optional field the
original's CRD knows, for tests of the JSON it is served as.

`.build()` makes an unsaved job, for code that needs no database.
"""

import copy
import datetime as dt
import uuid

import factory
from django.conf import settings
from django.utils import timezone
from factory.django import DjangoModelFactory

from hook.models import WebhookDelivery
from jobs.labels import REPORTER_NAME, prowjob_labels_and_annotations
from jobs.models import COMPLETE_STATES, ProwJob, ProwJobState, ProwJobType
from tide.models import Action, HistoryRecord, Pool

# What a configured job's pod runs when a test does not care.
POD_SPEC = {"containers": [{"image": "golang:1.23", "command": ["make", "test"]}]}

# What plank writes when it moves a job to each state (the others have
# reasons of their own, such as the error that stopped the pod).
DESCRIPTIONS = {
    ProwJobState.PENDING: "Job triggered.",
    ProwJobState.SUCCESS: "Job succeeded.",
    ProwJobState.FAILURE: "Job failed.",
}


class PullFactory(factory.DictFactory):
    """One pull request in a job's refs."""

    number = 7
    author = "alice"
    sha = "a" * 40
    title = "Fix the flake"


class RefsFactory(factory.DictFactory):
    """The code a job runs on: a branch at a commit; pass `pulls` for the
    pull requests merged into it."""

    org = "acme"
    repo = "app"
    base_ref = "main"
    base_sha = "b" * 40


def _refs_for(job_type: str) -> dict | None:
    if job_type == ProwJobType.PERIODIC:
        return None
    if job_type == ProwJobType.POSTSUBMIT:
        return RefsFactory()
    pulls = [PullFactory()]
    if job_type == ProwJobType.BATCH:
        pulls.append(PullFactory(number=8, author="bob", sha="c" * 40))
    return RefsFactory(pulls=pulls)


def _where(job) -> dict:
    # The refs Deck's columns come from: a periodic's first extra ref.
    return job.refs or (job.extra_refs[0] if job.extra_refs else {})


def _first_pull(job) -> dict:
    pulls = (job.refs or {}).get("pulls") or []
    return pulls[0] if pulls else {}


def _labels_and_annotations(job) -> tuple[dict, dict]:
    return prowjob_labels_and_annotations(
        job_type=job.type,
        job_name=job.job,
        context=job.context,
        refs=job.refs,
        extra_refs=job.extra_refs,
        extra_labels=job.extra_labels,
    )


# Every optional field set, shaped as real jobs are: quantities as strings
# and numbers, an int-or-string probe port, a null left by an empty YAML key.
DETAILED_REFS = {
    "org": "kubernetes",
    "repo": "test-infra",
    "repo_link": "https://github.com/kubernetes/test-infra",
    "base_ref": "main",
    "base_sha": "abc123",
    "base_link": "https://github.com/kubernetes/test-infra/commit/abc123",
    "pulls": [
        {
            "number": 42,
            "author": "alice",
            "sha": "def456",
            "title": "Fix the flake",
            "head_ref": "fix-flake",
            "link": "https://github.com/kubernetes/test-infra/pull/42",
            "commit_link": "https://github.com/kubernetes/test-infra/pull/42/commits/def456",
            "author_link": "https://github.com/alice",
        }
    ],
    "path_alias": "k8s.io/test-infra",
}
DETAILED_REFS_BY_TYPE = {
    ProwJobType.PRESUBMIT: DETAILED_REFS,
    ProwJobType.BATCH: {
        **DETAILED_REFS,
        "pulls": [
            *DETAILED_REFS["pulls"],
            {"number": 43, "author": "bob", "sha": "0a1b2c"},
        ],
    },
    ProwJobType.POSTSUBMIT: {
        "org": "kubernetes",
        "repo": "test-infra",
        "base_ref": "main",
        "base_sha": "abc123",
        "base_link": "https://github.com/kubernetes/test-infra/compare/000...abc123",
    },
    ProwJobType.PERIODIC: None,
}
DETAILED_EXTRA_REFS = [
    {
        "org": "kubernetes",
        "repo": "release",
        "base_ref": "master",
        "workdir": True,
        "clone_depth": 1,
        "blobless_fetch": False,
    },
]
DETAILED_POD_SPEC = {
    "containers": [
        {
            "image": "lawrence2018/maven:3.6-jdk-8",
            "command": ["/bin/sh", "-c"],
            "args": ["mvn test"],
            "env": [{"name": "MAVEN_OPTS", "value": "-Xmx1g"}],
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
            "livenessProbe": {"tcpSocket": {"port": 8080}},
            "resources": {
                "requests": {"cpu": "2000m", "memory": "1536Mi"},
                "limits": {"cpu": 4, "memory": "2Gi"},
            },
            "volumeMounts": None,
        }
    ],
    "nodeSelector": {"pool": "ci"},
    "tolerations": [{"key": "ci", "operator": "Exists", "effect": "NoSchedule"}],
}
DETAILED_DECORATION = {
    "timeout": "2h0m0s",
    "grace_period": "15s",
    "utility_images": {
        "clonerefs": "gcr.io/k8s-prow/clonerefs:v20240101",
        "initupload": "gcr.io/k8s-prow/initupload:v20240101",
        "entrypoint": "gcr.io/k8s-prow/entrypoint:v20240101",
        "sidecar": "gcr.io/k8s-prow/sidecar:v20240101",
    },
    "gcs_configuration": {
        "bucket": "s3://prow-logs",
        "path_strategy": "explicit",
    },
    "s3_credentials_secret": "s3-credentials",
    "default_memory_request": "1Gi",
    "pod_pending_timeout": "15m",
}
DETAILED_RERUN_AUTH = {
    "allow_anyone": False,
    "github_users": ["alice"],
    "github_orgs": [],
    "github_team_ids": [42],
    "github_team_slugs": [{"slug": "test-infra-admins", "org": "kubernetes"}],
}
DETAILED_REPORTER = {
    "slack": {
        "channel": "#ci",
        "job_states_to_report": ["failure", "error"],
        "report_template": "Job {{.Spec.Job}} ended with {{.Status.State}}",
    }
}


class ProwJobFactory(DjangoModelFactory):
    class Meta:
        model = ProwJob

    class Params:
        # How long a finished job ran.
        duration = dt.timedelta(minutes=12)
        # Labels the creating code adds (event-GUID, is-optional...).
        extra_labels = {}

        periodic = factory.Trait(type=ProwJobType.PERIODIC)
        postsubmit = factory.Trait(type=ProwJobType.POSTSUBMIT)
        batch = factory.Trait(type=ProwJobType.BATCH)
        pending = factory.Trait(state=ProwJobState.PENDING)
        finished = factory.Trait(state=ProwJobState.SUCCESS)
        detailed = factory.Trait(
            job=factory.LazyAttribute(lambda o: f"{o.type}-unit"),
            namespace="test-pods",
            refs=factory.LazyAttribute(
                lambda o: copy.deepcopy(DETAILED_REFS_BY_TYPE[o.type])
            ),
            extra_refs=factory.LazyFunction(lambda: copy.deepcopy(DETAILED_EXTRA_REFS)),
            max_concurrency=2,
            job_queue_name=factory.LazyAttribute(
                lambda o: "heavy" if o.type == ProwJobType.PERIODIC else ""
            ),
            error_on_eviction=factory.LazyAttribute(
                lambda o: o.type == ProwJobType.POSTSUBMIT
            ),
            hidden=factory.LazyAttribute(lambda o: o.type == ProwJobType.BATCH),
            pod_spec=factory.LazyFunction(lambda: copy.deepcopy(DETAILED_POD_SPEC)),
            decoration_config=factory.LazyFunction(
                lambda: copy.deepcopy(DETAILED_DECORATION)
            ),
            reporter_config=factory.LazyFunction(
                lambda: copy.deepcopy(DETAILED_REPORTER)
            ),
            rerun_auth_config=factory.LazyFunction(
                lambda: copy.deepcopy(DETAILED_RERUN_AUTH)
            ),
            description=factory.LazyAttribute(
                lambda o: f"Job {o.state}." if o.state in COMPLETE_STATES else ""
            ),
            prev_report_states=factory.LazyAttribute(
                lambda o: {REPORTER_NAME: o.state} if o.state in COMPLETE_STATES else {}
            ),
            pod_revival_count=factory.LazyAttribute(
                lambda o: 1 if o.state in COMPLETE_STATES else 0
            ),
        )

    name = factory.LazyFunction(uuid.uuid4)
    type = ProwJobType.PRESUBMIT
    job = factory.Sequence(lambda n: f"unit-{n}")
    namespace = "default"
    context = factory.LazyAttribute(
        lambda o: "" if o.type == ProwJobType.PERIODIC else o.job
    )
    rerun_command = factory.LazyAttribute(
        lambda o: f"/test {o.job}" if o.type == ProwJobType.PRESUBMIT else ""
    )
    report = factory.LazyAttribute(lambda o: o.type != ProwJobType.BATCH)
    refs = factory.LazyAttribute(lambda o: _refs_for(o.type))
    extra_refs = factory.LazyFunction(list)
    pod_spec = factory.LazyFunction(lambda: copy.deepcopy(POD_SPEC))
    labels = factory.LazyAttribute(lambda o: _labels_and_annotations(o)[0])
    annotations = factory.LazyAttribute(lambda o: _labels_and_annotations(o)[1])

    org = factory.LazyAttribute(lambda o: _where(o).get("org", ""))
    repo = factory.LazyAttribute(lambda o: _where(o).get("repo", ""))
    base_ref = factory.LazyAttribute(lambda o: _where(o).get("base_ref", ""))
    pull_number = factory.LazyAttribute(lambda o: _first_pull(o).get("number"))
    pull_sha = factory.LazyAttribute(lambda o: _first_pull(o).get("sha", ""))
    author = factory.LazyAttribute(lambda o: _first_pull(o).get("author", ""))

    state = ProwJobState.TRIGGERED
    description = factory.LazyAttribute(lambda o: DESCRIPTIONS.get(o.state, ""))
    start_time = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    pending_time = factory.LazyAttribute(
        lambda o: (
            o.start_time + dt.timedelta(seconds=30)
            if o.state != ProwJobState.TRIGGERED
            else None
        )
    )
    completion_time = factory.LazyAttribute(
        lambda o: o.start_time + o.duration if o.state in COMPLETE_STATES else None
    )
    # Plank gives a job its build id, pod and URL when it starts the pod.
    build_id = factory.LazyAttributeSequence(
        lambda o, n: (
            str(1_800_000_000_000_000_000 + n)
            if o.state != ProwJobState.TRIGGERED
            else ""
        )
    )
    pod_name = factory.LazyAttribute(
        lambda o: str(o.name) if o.state != ProwJobState.TRIGGERED else ""
    )
    url = factory.LazyAttribute(
        lambda o: (
            f"{settings.PROW_EXTERNAL_URL}/view/{o.name}"
            if o.state != ProwJobState.TRIGGERED
            else ""
        )
    )


class WebhookDeliveryFactory(DjangoModelFactory):
    """A stored webhook; a `done` or `failed` one has been handled once."""

    class Meta:
        model = WebhookDelivery

    guid = factory.LazyFunction(lambda: str(uuid.uuid4()))
    event = "issue_comment"
    action = factory.LazyAttribute(
        lambda o: "created" if o.event == "issue_comment" else ""
    )
    org = "acme"
    repo = "app"
    sender = "alice"
    payload = factory.LazyAttribute(
        lambda o: {
            **({"action": o.action} if o.action else {}),
            "repository": {
                "name": o.repo,
                "full_name": f"{o.org}/{o.repo}",
                "owner": {"login": o.org},
            },
            "sender": {"login": o.sender},
        }
    )
    status = WebhookDelivery.Status.PENDING
    received_at = factory.LazyFunction(timezone.now)
    attempts = factory.LazyAttribute(
        lambda o: 0 if o.status == WebhookDelivery.Status.PENDING else 1
    )
    started_at = factory.LazyAttribute(
        lambda o: None if o.status == WebhookDelivery.Status.PENDING else o.received_at
    )
    finished_at = factory.LazyAttribute(
        lambda o: (
            o.received_at
            if o.status in (WebhookDelivery.Status.DONE, WebhookDelivery.Status.FAILED)
            else None
        )
    )


def tide_pull(number: int = 7, **fields) -> dict:
    """A pull request summary as Tide stores it in a pool (the dict of
    tide.pools.pull_summary); `reason` is what it waits for."""
    org = fields.pop("org", "acme")
    repo = fields.pop("repo", "app")
    summary = {
        "number": number,
        "author": "alice",
        "title": f"Change {number}",
        "sha": f"{number:040x}",
        "head_ref": f"change-{number}",
        "labels": ["lgtm", "approved"],
        "url": f"https://github.com/{org}/{repo}/pull/{number}",
        "reason": "In merge pool.",
    }
    summary.update(fields)
    return summary


class TidePoolFactory(DjangoModelFactory):
    """acme/app:main as a sync leaves it: one pull request ready to merge
    (#7), Tide's action MERGE on it. Pass the lists to shape the pool."""

    class Meta:
        model = Pool
        django_get_or_create = ("org", "repo", "branch")

    org = "acme"
    repo = "app"
    branch = "main"
    base_sha = "b" * 40
    action = Action.MERGE
    success_prs = factory.LazyAttribute(
        lambda o: [tide_pull(7, org=o.org, repo=o.repo)]
    )
    pending_prs = factory.LazyFunction(list)
    missing_prs = factory.LazyFunction(list)
    target = factory.LazyAttribute(lambda o: list(o.success_prs[:1]))
    batches = factory.LazyFunction(list)
    blockers = factory.LazyFunction(list)
    error = ""
    synced_at = factory.LazyFunction(timezone.now)


class TideHistoryFactory(DjangoModelFactory):
    """Tide merged acme/app#7 into main a moment ago."""

    class Meta:
        model = HistoryRecord

    org = "acme"
    repo = "app"
    branch = "main"
    action = Action.MERGE
    base_sha = "b" * 40
    targets = factory.LazyFunction(
        lambda: [
            {
                "number": 7,
                "author": "alice",
                "sha": "7".rjust(40, "0"),
                "title": "Change 7",
                "head_ref": "change-7",
            }
        ]
    )
    error = ""
    created = factory.LazyFunction(timezone.now)
