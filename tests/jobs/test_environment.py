"""Environment of job containers (spec §2.5)."""

import json
import re
from string import Template

import pytest
import yaml

from jobs.environment import (
    as_env_vars,
    job_environment,
    refs_string,
    reserved_env_names,
)
from jobs.models import ProwJob, ProwJobState
from tests.conftest import EXAMPLES
from tests.factories import ProwJobFactory

REFS = {
    "org": "kubernetes",
    "repo": "test-infra",
    "base_ref": "main",
    "base_sha": "abc",
    "pulls": [
        {
            "number": 42,
            "author": "alice",
            "sha": "def",
            "title": "Fix the flake",
            "head_ref": "fix-flake",
            "link": "https://github.com/kubernetes/test-infra/pull/42",
        }
    ],
}


def presubmit(**overrides) -> ProwJob:
    """An unsaved presubmit, pull-unit, of kubernetes/test-infra#42, running
    as build 17."""
    fields = {"job": "pull-unit", "refs": REFS, "pending": True, "build_id": "17"}
    fields.update(overrides)
    return ProwJobFactory.build(**fields)


@pytest.mark.parametrize(
    ("refs", "expected"),
    [
        ({"base_ref": "main"}, "main"),
        ({"base_ref": "main", "base_sha": "abc"}, "main:abc"),
        (REFS, "main:abc,42:def"),
        (
            {
                "base_ref": "main",
                "base_sha": "abc123",
                "pulls": [
                    {"number": 42, "sha": "def456"},
                    {"number": 43, "sha": "0a1b2c", "ref": "pull/43/head"},
                ],
            },
            "main:abc123,42:def456,43:0a1b2c:pull/43/head",
        ),
        (None, ""),
    ],
)
def test_refs_string(refs, expected):
    assert refs_string(refs) == expected


def test_presubmit_environment():
    job = presubmit()
    env = job_environment(job)
    assert env == {
        "CI": "true",
        "JOB_NAME": "pull-unit",
        "JOB_TYPE": "presubmit",
        "JOB_SPEC": env["JOB_SPEC"],
        "BUILD_ID": "17",
        "BUILD_NUMBER": "17",
        "PROW_JOB_ID": str(job.name),
        "REPO_OWNER": "kubernetes",
        "REPO_NAME": "test-infra",
        "PULL_BASE_REF": "main",
        "PULL_BASE_SHA": "abc",
        "PULL_REFS": "main:abc,42:def",
        "SRC_HOST": "github.com",
        "SRC_BASE": "kubernetes/test-infra",
        "PULL_NUMBER": "42",
        "PULL_PULL_SHA": "def",
        "PULL_HEAD_REF": "fix-flake",
        "PULL_TITLE": "Fix the flake",
    }
    assert set(env) == reserved_env_names("presubmit")


def test_job_spec_has_the_originals_keys_and_omits_empty_ones():
    job = presubmit()
    spec = json.loads(job_environment(job)["JOB_SPEC"])
    assert list(spec) == ["type", "job", "buildid", "prowjobid", "refs"]
    assert spec["type"] == "presubmit"
    assert spec["job"] == "pull-unit"
    assert spec["buildid"] == "17"
    assert spec["prowjobid"] == str(job.name)
    assert spec["refs"]["org"] == "kubernetes"
    assert spec["refs"]["pulls"][0]["number"] == 42
    assert spec["refs"]["pulls"][0]["sha"] == "def"

    decorated = presubmit(
        decoration_config={"timeout": "2h"},
        extra_refs=[{"org": "kubernetes", "repo": "release", "base_ref": "master"}],
    )
    spec = json.loads(job_environment(decorated)["JOB_SPEC"])
    assert list(spec) == [
        "type",
        "job",
        "buildid",
        "prowjobid",
        "refs",
        "extra_refs",
        "decoration_config",
    ]
    assert spec["extra_refs"] == [
        {"org": "kubernetes", "repo": "release", "base_ref": "master"}
    ]
    assert spec["decoration_config"] == {"timeout": "2h"}


def test_triggered_job_spec_has_no_buildid_until_one_is_allocated():
    job = presubmit(state=ProwJobState.TRIGGERED, build_id="")
    assert "buildid" not in json.loads(job_environment(job)["JOB_SPEC"])
    env = job_environment(job, build_id="99")
    assert env["BUILD_ID"] == env["BUILD_NUMBER"] == "99"
    assert json.loads(env["JOB_SPEC"])["buildid"] == "99"


def test_postsubmit_has_refs_but_no_pull_variables():
    job = ProwJobFactory.build(
        postsubmit=True,
        pending=True,
        job="post-build",
        refs={
            "org": "kubernetes",
            "repo": "test-infra",
            "base_ref": "main",
            "base_sha": "abc",
        },
        build_id="5",
    )
    env = job_environment(job)
    assert env["JOB_TYPE"] == "postsubmit"
    assert env["REPO_OWNER"] == "kubernetes"
    assert env["PULL_REFS"] == "main:abc"
    assert "PULL_NUMBER" not in env
    assert "PULL_PULL_SHA" not in env
    assert set(env) == reserved_env_names("postsubmit")


def test_batch_has_all_pulls_in_pull_refs_but_no_single_pull_variables():
    refs = {
        **REFS,
        "pulls": [*REFS["pulls"], {"number": 43, "author": "bob", "sha": "0a1b2c"}],
    }
    env = job_environment(ProwJobFactory.build(batch=True, job="pull-unit", refs=refs))
    assert env["PULL_REFS"] == "main:abc,42:def,43:0a1b2c"
    assert "PULL_NUMBER" not in env
    assert set(env) == reserved_env_names("batch")


def test_periodic_has_no_refs_variables_even_with_extra_refs():
    job = ProwJobFactory.build(
        periodic=True,
        pending=True,
        job="ci-nightly",
        extra_refs=[{"org": "kubernetes", "repo": "kubernetes", "base_ref": "master"}],
        build_id="8",
    )
    env = job_environment(job)
    assert env["JOB_TYPE"] == "periodic"
    for name in ("REPO_OWNER", "REPO_NAME", "PULL_REFS", "SRC_BASE", "PULL_NUMBER"):
        assert name not in env
    spec = json.loads(env["JOB_SPEC"])
    assert "refs" not in spec
    assert spec["extra_refs"][0]["repo"] == "kubernetes"
    assert set(env) == reserved_env_names("periodic")


def test_decorated_job_gets_artifacts_and_gopath():
    assert "ARTIFACTS" not in job_environment(presubmit())
    # An empty decoration config still means "decorated", as a non-nil
    # pointer does in the original.
    env = job_environment(presubmit(decoration_config={}))
    assert env["ARTIFACTS"] == "/logs/artifacts"
    assert env["GOPATH"] == "/home/prow/go"
    assert json.loads(env["JOB_SPEC"])["decoration_config"] == {}


def test_src_host_comes_from_the_github_link_url():
    assert job_environment(presubmit(), github_host="ghe.example.com")["SRC_HOST"] == (
        "ghe.example.com"
    )
    env = job_environment(presubmit(), github_host="https://ghe.example.com/")
    assert env["SRC_HOST"] == "ghe.example.com"


def test_build_number_only_for_the_kubernetes_agent():
    assert "BUILD_NUMBER" not in job_environment(presubmit(agent="jenkins"))


def test_reserved_env_names_per_type():
    assert "PULL_NUMBER" in reserved_env_names("presubmit")
    assert "PULL_NUMBER" not in reserved_env_names("batch")
    assert "REPO_OWNER" in reserved_env_names("postsubmit")
    assert "REPO_OWNER" not in reserved_env_names("periodic")
    assert "JOB_SPEC" in reserved_env_names("periodic")
    assert "ARTIFACTS" not in reserved_env_names("presubmit")
    assert "ARTIFACTS" in reserved_env_names("presubmit", decorated=True)


def test_env_vars_are_sorted_by_name():
    names = [var["name"] for var in as_env_vars(job_environment(presubmit()))]
    assert names == sorted(names)
    assert {"name": "CI", "value": "true"} in as_env_vars({"CI": "true"})


def test_seed_presubmit_script_gets_every_variable_it_uses():
    config = yaml.safe_load((EXAMPLES / "config.yaml").read_text(encoding="utf-8"))
    ((repo_key, jobs),) = config["presubmits"].items()
    (seed_job,) = jobs
    (script,) = seed_job["spec"]["containers"][0]["args"]
    org, repo = repo_key.split("/")
    used = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", script))
    assert {"REPO_OWNER", "REPO_NAME", "PULL_NUMBER"} <= used

    job = ProwJobFactory.build(
        pending=True,
        job=seed_job["name"],
        refs={
            "org": org,
            "repo": repo,
            "base_ref": "master",
            "base_sha": "abc",
            "pulls": [{"number": 7, "author": "lonor", "sha": "def"}],
        },
        build_id="1",
    )
    env = job_environment(job)
    assert {name for name in used if not env.get(name)} == set()
    # substitute() raises on any variable the script uses that is not set.
    expanded = Template(script).substitute(env)
    assert "git fetch origin pull/7/head:pr-7" in expanded
    assert f"https://github.com/{org}/{repo}.git" in expanded
