"""The seed deployment's presubmit `spring`, triggered from a pull request of
Lonor/kubernetes-springboot-demo, gets the pod spec and environment its
hand-written script expects."""

import copy
import re
import subprocess

import pytest

from hook.models import WebhookDelivery
from hook.services import delivery_dispatch
from jobs.environment import job_environment
from jobs.models import ProwJob
from tests.conftest import EXAMPLES
from tests.webhooks import fixture_payload

pytestmark = pytest.mark.django_db

ORG, REPO, PR = "Lonor", "kubernetes-springboot-demo", 3
HEAD = "f" * 40


@pytest.fixture(autouse=True)
def seed(clean_broker, fake_github, activate_config):
    fake_github.add_repo(ORG, REPO, default_branch="master")
    fake_github.add_branch(ORG, REPO, "master", "e" * 40)
    fake_github.add_collaborator(ORG, REPO, "lawrence")
    fake_github.add_pull(
        ORG, REPO, PR, "lawrence", HEAD, base_ref="master", title="Add tests"
    )
    activate_config(
        config_yaml=(EXAMPLES / "config.yaml").read_text(),
        # The example's plugins name a placeholder repository; the seed's
        # author would put their own there.
        plugins_yaml=f"plugins:\n  {ORG}/{REPO}: [trigger]\n",
    )


def comment(post_webhook, body):
    payload = copy.deepcopy(fixture_payload("issue_comment.created"))
    payload["repository"].update(full_name=f"{ORG}/{REPO}", name=REPO)
    payload["repository"]["owner"]["login"] = ORG
    payload["issue"].update(number=PR, state="open", pull_request={"url": "x"})
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = "lawrence"
    assert post_webhook("issue_comment", payload).status_code == 200
    delivery_dispatch(WebhookDelivery.objects.order_by("-pk").first().pk)


def test_test_spring_starts_the_seed_job_with_what_its_script_needs(post_webhook):
    comment(post_webhook, "/test spring")
    job = ProwJob.objects.get()
    assert job.job == "spring"
    assert job.namespace == "test-pods"
    assert job.decoration_config is None  # decorate: false
    (container,) = job.pod_spec["containers"]
    assert container["image"] == "lawrence2018/maven:3.6-jdk-8"
    assert container["resources"]["requests"] == {"cpu": "2000m", "memory": "1536Mi"}

    env = job_environment(job, build_id="1")
    script = container["args"][0]
    used = set(re.findall(r"\$\{(\w+)\}", script))
    assert used == {"REPO_NAME", "REPO_OWNER", "PULL_NUMBER"}
    assert used <= set(env)
    # The script's own expansions, done by a real shell with the job's env.
    shown = subprocess.run(
        [
            "/bin/sh",
            "-c",
            'echo "https://github.com/${REPO_OWNER}/${REPO_NAME}.git '
            'pull/${PULL_NUMBER}/head:pr-${PULL_NUMBER}"',
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown == f"https://github.com/{ORG}/{REPO}.git pull/{PR}/head:pr-{PR}"


def test_test_all_does_not_start_a_job_that_runs_only_on_request(
    post_webhook, fake_github
):
    # spring has always_run: false and no file filter: like the original,
    # /test all leaves it alone and the reply says how to run it.
    comment(post_webhook, "/test all")
    assert not ProwJob.objects.exists()
    (reply,) = [c.body for c in fake_github.comments(ORG, REPO, PR)]
    assert "No jobs can be run with `/test all`." in reply
    assert "* `/test spring`" in reply
