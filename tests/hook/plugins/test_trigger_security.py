"""What a pull request author or a pusher can make trigger do with a
repository's own config, and with the payload's fields."""

import copy

import pytest

from hook.plugins.trigger import UNTRUSTED_REPLY
from jobs.labels import IN_REPO_ANNOTATION
from jobs.models import ProwJob
from tests.hook.plugins.test_trigger import (
    BASE_TIP,
    CONFIG,
    HEAD,
    ORG,
    REPO,
    add_pull,
    comment_event,
    comments,
    deliver,
    plugins_yaml,
    pr_event,
    push_event,
    started,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def github(clean_broker, fake_github, activate_config):
    fake_github.add_repo(ORG, REPO)
    fake_github.add_branch(ORG, REPO, "main", BASE_TIP)
    fake_github.add_org_member(ORG, "member")
    fake_github.add_user("stranger")
    for label in ("ok-to-test", "needs-ok-to-test"):
        fake_github.add_label(ORG, REPO, label)
    activate_config(config_yaml=CONFIG, plugins_yaml=plugins_yaml())
    return fake_github


IN_REPO = (
    CONFIG
    + "pod_namespace: test-pods\n"
    + "in_repo_config:\n  enabled:\n    acme/app: true\n"
)


def enable_in_repo(activate_config, extra=""):
    activate_config(config_yaml=IN_REPO + extra, plugins_yaml=plugins_yaml())


def repo_config(github, text):
    github.set_file(ORG, REPO, ".prow.yaml", text, ref=HEAD)


# Pods and namespaces ------------------------------------------------------------


def test_a_repository_cannot_choose_its_namespace_or_service_account(
    post_webhook, github, activate_config
):
    enable_in_repo(activate_config)
    add_pull(github)
    repo_config(
        github,
        "presubmits:\n- name: steal\n  always_run: true\n  namespace: default\n"
        "  spec:\n    serviceAccountName: prow-admin\n"
        "    containers: [{image: busybox, command: [cat]}]\n"
        "    volumes: [{name: t, secret: {secretName: github-token}}]\n",
    )
    deliver(post_webhook, "pull_request", pr_event("opened"))
    assert started() == []
    (comment,) = comments(github)
    assert "could not be loaded" in comment
    assert ".prow.yaml:4: presubmits[0].namespace" in comment
    assert "service account 'prow-admin' is not granted" in comment
    assert "Secret 'github-token' is not granted" in comment


def test_the_central_config_can_grant_a_repository_what_it_needs(
    post_webhook, github, activate_config
):
    enable_in_repo(
        activate_config,
        "  allowed_pod_options:\n    acme/app:\n"
        "      service_accounts: [builder]\n      secrets: [app-token]\n",
    )
    add_pull(github)
    repo_config(
        github,
        "presubmits:\n- name: build\n  always_run: true\n"
        "  spec:\n    serviceAccountName: builder\n"
        "    containers: [{image: busybox, command: [make]}]\n"
        "    volumes: [{name: t, secret: {secretName: app-token}}]\n",
    )
    deliver(post_webhook, "pull_request", pr_event("opened"))
    assert "build" in started()
    job = ProwJob.objects.get(job="build")
    assert job.namespace == "test-pods"
    assert job.annotations[IN_REPO_ANNOTATION] == "true"
    assert IN_REPO_ANNOTATION not in ProwJob.objects.get(job="unit").annotations


def test_a_repository_job_may_not_take_a_central_jobs_context(
    post_webhook, github, activate_config
):
    enable_in_repo(activate_config)
    add_pull(github)
    repo_config(
        github,
        "presubmits:\n- name: fake-unit\n  context: unit\n  optional: true\n"
        "  spec: {containers: [{image: busybox, command: ['true']}]}\n",
    )
    deliver(post_webhook, "pull_request", pr_event("opened"))
    assert started() == []
    assert "context 'unit' of a job in the central config" in comments(github)[0]


# Trust comes before the repository's config -------------------------------------


def test_an_untrusted_comment_does_not_get_the_repositorys_config_read(
    post_webhook, github, activate_config
):
    enable_in_repo(activate_config)
    add_pull(github, author="stranger")
    # Were the file read, this would be reported as broken.
    repo_config(github, "presubmits: 7\n")
    deliver(post_webhook, "issue_comment", comment_event("/test x", user="stranger"))
    assert started() == []
    (reply,) = comments(github)
    assert UNTRUSTED_REPLY in reply
    assert "could not be loaded" not in reply


def test_an_untrusted_custom_command_gets_no_answer(
    post_webhook, github, activate_config
):
    enable_in_repo(activate_config)
    add_pull(github, author="stranger")
    repo_config(
        github,
        "presubmits:\n- name: x\n  trigger: '(?m)^/frob'\n  rerun_command: /frob\n"
        "  spec: {containers: [{image: b, command: ['true']}]}\n",
    )
    deliver(post_webhook, "issue_comment", comment_event("/frob", user="stranger"))
    assert started() == [] and comments(github) == []


def test_a_backtracking_trigger_is_refused_in_a_repositorys_config(
    post_webhook, github, activate_config
):
    enable_in_repo(activate_config)
    add_pull(github)
    repo_config(
        github,
        "presubmits:\n- name: slow\n  trigger: '(?m)^/slow (a|aa)+(?=!)'\n"
        "  rerun_command: '/slow aa!'\n"
        "  spec: {containers: [{image: busybox, command: ['true']}]}\n",
    )
    deliver(post_webhook, "issue_comment", comment_event("/slow " + "a" * 24))
    assert started() == []
    (comment,) = comments(github)
    assert "presubmits[0].trigger: could not compile trigger regex" in comment
    assert "linear time" in comment


# One reading of org and repo ------------------------------------------------------


def test_a_push_runs_the_jobs_of_the_repository_full_name_names(
    post_webhook, github, activate_config
):
    activate_config(
        config_yaml=CONFIG, plugins_yaml=plugins_yaml("  other: [trigger]\n")
    )
    # The webhook secret is chosen by repository.full_name; the org named in
    # repository.owner must not get its postsubmits started by it.
    payload = push_event()
    payload["repository"]["full_name"] = f"other/{REPO}"
    payload["repository"]["owner"].update(name=ORG, login=ORG)
    deliver(post_webhook, "push", payload)
    assert started() == []

    payload = copy.deepcopy(push_event())
    payload["repository"]["owner"].update(name="other", login="other")
    deliver(post_webhook, "push", payload)
    assert started() == ["deploy"]
    assert ProwJob.objects.get().org == ORG
