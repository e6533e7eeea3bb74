"""A repository's own jobs: the central checks, and nothing asked of the
cluster that the central config does not grant."""

import time

import pytest

from prow.config import yamlsource
from prow.config.regex import compile_go_regex, regex_problem
from prow.config.schema import ProwConfig
from prow.config.validation import check_repo_jobs, validate

BUSYBOX = "{image: busybox, command: ['true']}"


def checked(text, config=None, org="acme", repo="app"):
    parsed = yamlsource.parse(text)
    return check_repo_jobs(
        config or ProwConfig(pod_namespace="test-pods"),
        org,
        repo,
        [(".prow.yaml", parsed.data, parsed.lines.lines)],
    )


def errors(text, config=None):
    return [str(issue) for issue in checked(text, config).errors]


def job_with(spec_lines, extra=""):
    return (
        "presubmits:\n- name: j\n  always_run: true\n"
        + extra
        + "  spec:\n"
        + "".join(f"    {line}\n" for line in spec_lines)
    )


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            ["serviceAccountName: admin", f"containers: [{BUSYBOX}]"],
            "service account 'admin' is not granted",
        ),
        (
            ["automountServiceAccountToken: true", f"containers: [{BUSYBOX}]"],
            "a service account token is not granted",
        ),
        (
            [
                f"containers: [{BUSYBOX}]",
                "volumes: [{name: h, hostPath: {path: /var/run/docker.sock}}]",
            ],
            "host path '/var/run/docker.sock' is not granted",
        ),
        (
            [f"containers: [{BUSYBOX}]", "volumes: [{name: s, secret: {}}]"],
            "Secret None is not granted",
        ),
        (
            [
                f"containers: [{BUSYBOX}]",
                "volumes: [{name: p, projected: {sources: [{secret: {name: hmac}}]}}]",
            ],
            "Secret 'hmac' is not granted",
        ),
        (
            [
                f"containers: [{BUSYBOX}]",
                "volumes: [{name: n, nfs: {server: x, path: /}}]",
            ],
            "nfs volumes are not allowed",
        ),
        (
            [
                "containers: [{image: b, command: [x], securityContext: "
                "{privileged: true}}]"
            ],
            "privileged containers are not granted",
        ),
        (
            [
                "containers: [{image: b, command: [x], securityContext: "
                "{capabilities: {add: [SYS_ADMIN]}}}]"
            ],
            "added capabilities are not granted",
        ),
        (["hostPID: true", f"containers: [{BUSYBOX}]"], "hostPID is not granted"),
        (
            [
                "containers: [{image: b, command: [x], env: [{name: T, valueFrom: "
                "{secretKeyRef: {name: oauth-token, key: t}}}]}]"
            ],
            "Secret 'oauth-token' is not granted",
        ),
        (
            [
                "containers: [{image: b, command: [x], envFrom: "
                "[{secretRef: {name: oauth-token}}]}]"
            ],
            "Secret 'oauth-token' is not granted",
        ),
    ],
)
def test_what_a_repository_may_not_ask_for(spec, message):
    (error,) = errors(job_with(spec))
    assert error.startswith(".prow.yaml:")
    assert message in error


def test_the_central_config_grants_per_repository():
    spec = [
        "serviceAccountName: builder",
        "hostNetwork: true",
        "containers: [{image: b, command: [x], securityContext: {privileged: true},"
        " envFrom: [{secretRef: {name: token}}]}]",
        "volumes: [{name: h, hostPath: {path: /cache}}]",
    ]
    granted = ProwConfig.model_validate(
        {
            "in_repo_config": {
                "allowed_pod_options": {
                    "acme/app": {"service_accounts": ["builder"], "privileged": True},
                    "acme": {"secrets": ["token"]},
                    "*": {"host_paths": ["/cache"]},
                }
            }
        }
    )
    result = checked(job_with(spec), granted)
    assert result.errors == []
    assert [job.name for job in result.presubmits] == ["j"]
    # Another repository of the org gets only the org's and everyone's grants.
    other = checked(job_with(spec), granted, repo="lib")
    assert {e.message.split(" is ")[0] for e in other.errors} == {
        "service account 'builder'",
        "hostNetwork",
        "privileged containers are not granted to this repository "
        "(in_repo_config.allowed_pod_options.privileged)",
    }


def test_central_checks_apply_to_repository_jobs():
    text = (
        "presubmits:\n"
        f"- name: ..\n  spec: {{containers: [{BUSYBOX}]}}\n"
        f"- name: a/b\n  spec: {{containers: [{BUSYBOX}]}}\n"
        "- name: art\n  decorate: true\n  spec:\n"
        "    containers: [{name: artifacts, image: b, command: [x]}, "
        "{name: t, image: b, command: [y]}]\n"
        f"- name: ns\n  namespace: kube-system\n  spec: {{containers: [{BUSYBOX}]}}\n"
        "- name: nospec\n"
        f"postsubmits:\n- name: p\n  branches: ['(']\n  spec: {{containers: [{BUSYBOX}]}}\n"
    )
    found = errors(text)
    for expected in (
        ".prow.yaml:2: presubmits[0].name: name: must not be . or ..",
        ".prow.yaml:4: presubmits[1].name: name: must match regex",
        "presubmits[2].spec.containers[0].name: container name 'artifacts' is reserved",
        ".prow.yaml:11: presubmits[3].namespace: pods run in pod_namespace",
        "presubmits[4].spec: job with agent kubernetes must have a pod spec",
        "postsubmits[0].branches[0]: could not compile branches regex",
    ):
        assert any(expected in error for error in found), (expected, found)


def test_a_central_job_may_not_choose_its_namespace():
    config = (
        "pod_namespace: test-pods\n"
        "periodics:\n- name: p\n  interval: 1h\n  namespace: kube-system\n"
        "  spec: {containers: [{image: b}]}\n"
        "- name: q\n  interval: 1h\n  namespace: test-pods\n"
        "  spec: {containers: [{image: b}]}\n"
    )
    result = validate(config, "")
    assert [str(e) for e in result.errors] == [
        "config.yaml:5: periodics[0].namespace: pods run in pod_namespace "
        "('test-pods'); a job may not choose another namespace (got 'kube-system')"
    ]


# Regular expressions ------------------------------------------------------------------


def test_patterns_match_in_linear_time():
    # Exponential for a backtracking engine: minutes with re at this length.
    started = time.perf_counter()
    assert compile_go_regex(r"^(a+)+$").search("a" * 5000 + "!") is None
    assert (
        compile_go_regex(r"(?m)^/test( | .* )(x|x)*y").search("/test " + "x" * 5000)
        is None
    )
    assert time.perf_counter() - started < 0.5


def test_backtracking_patterns_are_only_for_the_central_config():
    assert compile_go_regex(r"(a)\1").search("xaa")
    assert compile_go_regex(r"foo(?!bar)").search("foobaz")
    assert regex_problem(r"(a)\1", "trigger") is None
    problem = regex_problem(r"(a)\1", "trigger", linear_only=True)
    assert "linear time" in problem
    assert regex_problem(r"(", "trigger") is not None


def test_go_spellings_still_match():
    assert compile_go_regex(r"a\z").search("ba")
    assert not compile_go_regex(r"a\z").search("ab")
    assert compile_go_regex(r"(?P<x>a)(?<y>b)").search("ab")
    # RE2's $ is the end of the text, as Go's is (re's also matches before a
    # final newline).
    assert not compile_go_regex(r"a$").search("a\n")


def test_jobs_of_several_files_are_checked_together():
    job = f"presubmits:\n- name: same\n  spec: {{containers: [{BUSYBOX}]}}\n"
    documents = []
    for name in (".prow/a.yaml", ".prow/b.yaml"):
        parsed = yamlsource.parse(job)
        documents.append((name, parsed.data, parsed.lines.lines))
    result = check_repo_jobs(ProwConfig(), "acme", "app", documents)
    assert [str(e) for e in result.errors] == [
        ".prow/b.yaml:2: presubmits[0].name: duplicated presubmit job 'same' "
        "(also in .prow/a.yaml, running on the same branches)"
    ]
