"""Pods built for ProwJobs (spec §2.4-2.7): the manifest, decoration, and the
clone script, which is also run for real against a local git repository."""

import base64
import copy
import io
import os
import shlex
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import kubernetes_validate
import pytest

from jobs.environment import job_environment
from jobs.models import ProwJob
from jobs.pods import (
    DEFAULT_CLONE_IMAGE,
    artifacts_script,
    build_pod,
    clone_script,
    clone_uri_for,
    workdir_for,
    wrapper_script,
)
from tests.factories import ProwJobFactory

MERGE_ENV = [
    "GIT_AUTHOR_NAME=ci-robot",
    "GIT_AUTHOR_EMAIL=ci-robot@k8s.io",
    "GIT_COMMITTER_NAME=ci-robot",
    "GIT_COMMITTER_EMAIL=ci-robot@k8s.io",
    "GIT_AUTHOR_DATE=$stamp +0000",
    "GIT_COMMITTER_DATE=$stamp +0000",
]
# The newest Kubernetes schema the installed package bundles.
K8S_VERSION = kubernetes_validate.latest_version()
BUILD_ID = "1234567890123456789"

REFS = {
    "org": "kubernetes",
    "repo": "test-infra",
    "base_ref": "main",
    "base_sha": "a" * 40,
    "pulls": [
        {
            "number": 7,
            "author": "alice",
            "sha": "b" * 40,
            "title": "Fix the flake",
            "head_ref": "fix-flake",
        }
    ],
}

# The seed's presubmit: one unnamed container cloning by hand.
SEED_SPEC = {
    "containers": [
        {
            "image": "lawrence2018/maven:3.6-jdk-8",
            "command": ["/bin/sh", "-c"],
            "args": ["git fetch origin pull/${PULL_NUMBER}/head && mvn test"],
            "resources": {"requests": {"cpu": "2000m", "memory": "1536Mi"}},
        }
    ]
}

DECORATED_SPEC = {
    "containers": [
        {
            "image": "golang:1.23",
            "command": ["make"],
            "args": ["test"],
        }
    ]
}


def job(**overrides) -> ProwJob:
    """An unsaved presubmit, pull-unit, of kubernetes/test-infra#7 that
    runs the seed's spec and has no build id yet."""
    fields = {
        "job": "pull-unit",
        "refs": copy.deepcopy(REFS),
        "pod_spec": copy.deepcopy(SEED_SPEC),
    }
    fields.update(overrides)
    return ProwJobFactory.build(**fields)


def decorated(**overrides) -> ProwJob:
    refs = copy.deepcopy(REFS)
    refs["pulls"].append({"number": 9, "author": "bob", "sha": "c" * 40})
    fields = {
        "refs": refs,
        "pod_spec": copy.deepcopy(DECORATED_SPEC),
        "decoration_config": {"timeout": "2h", "grace_period": "15s"},
    }
    fields.update(overrides)
    return job(**fields)


def validated(pod: dict) -> dict:
    kubernetes_validate.validate(pod, K8S_VERSION, strict=True)
    return pod


def env_of(container: dict) -> dict:
    return {var["name"]: var["value"] for var in container["env"]}


def script_of(pod: dict) -> str:
    (clonerefs,) = [
        c for c in pod["spec"]["initContainers"] if c["name"] == "clonerefs"
    ]
    assert clonerefs["command"][:2] == ["/bin/sh", "-c"]
    return clonerefs["command"][2]


def commands(script: str) -> list[list[str]]:
    """The script's simple one-line commands as argv lists (shell syntax
    such as the retry function is skipped)."""
    result = []
    for line in script.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        if words:
            result.append(words)
    return result


# --- the manifest ---------------------------------------------------------


def test_undecorated_seed_job_gets_env_labels_and_prow_defaults():
    prowjob = job(namespace="test-pods")
    pod = validated(build_pod(prowjob, build_id=BUILD_ID))

    assert pod["apiVersion"] == "v1"
    assert pod["kind"] == "Pod"
    assert pod["metadata"]["name"] == str(prowjob.name)
    assert pod["metadata"]["namespace"] == "test-pods"
    labels = pod["metadata"]["labels"]
    assert labels["prow.k8s.io/id"] == str(prowjob.name)
    assert labels["prow.k8s.io/build-id"] == BUILD_ID
    assert labels["created-by-prow"] == "true"
    assert labels["prow.k8s.io/refs.pull"] == "7"
    assert pod["metadata"]["annotations"]["prow.k8s.io/job"] == "pull-unit"

    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["automountServiceAccountToken"] is False
    (container,) = spec["containers"]
    assert container["name"] == "test"
    assert container["command"] == ["/bin/sh", "-c"]
    assert container["args"] == SEED_SPEC["containers"][0]["args"]
    assert container["resources"] == SEED_SPEC["containers"][0]["resources"]
    env = env_of(container)
    assert env["PULL_NUMBER"] == "7"
    assert env["PULL_PULL_SHA"] == "b" * 40
    assert env["REPO_OWNER"] == "kubernetes"
    assert env["BUILD_ID"] == BUILD_ID
    assert env["PROW_JOB_ID"] == str(prowjob.name)
    assert env == job_environment(prowjob, build_id=BUILD_ID)
    # Nothing of decoration on an undecorated pod.
    assert "ARTIFACTS" not in env
    assert "initContainers" not in spec
    assert "volumes" not in spec
    assert "workingDir" not in container
    assert "activeDeadlineSeconds" not in spec


def test_building_leaves_the_job_spec_untouched():
    prowjob = decorated()
    before = copy.deepcopy(prowjob.pod_spec)
    validated(build_pod(prowjob, build_id=BUILD_ID))
    assert prowjob.pod_spec == before


def test_same_job_builds_the_same_pod():
    prowjob = decorated()
    assert build_pod(prowjob, build_id=BUILD_ID) == build_pod(
        prowjob, build_id=BUILD_ID
    )


@pytest.mark.parametrize(
    ("argument", "job_namespace", "expected"),
    [("explicit", "test-pods", "explicit"), (None, "test-pods", "test-pods")],
)
def test_namespace_precedence(argument, job_namespace, expected):
    prowjob = job(namespace=job_namespace)
    pod = validated(build_pod(prowjob, build_id=BUILD_ID, namespace=argument))
    assert pod["metadata"]["namespace"] == expected


def test_namespace_defaults_to_default():
    pod = validated(build_pod(job(namespace=""), build_id=BUILD_ID))
    assert pod["metadata"]["namespace"] == "default"


def test_single_named_container_is_renamed_test():
    spec = copy.deepcopy(SEED_SPEC)
    spec["containers"][0]["name"] = "maven"
    pod = validated(build_pod(job(pod_spec=spec), build_id=BUILD_ID))
    assert [c["name"] for c in pod["spec"]["containers"]] == ["test"]


def test_job_env_replaces_a_container_value_of_the_same_name():
    spec = copy.deepcopy(SEED_SPEC)
    spec["containers"][0]["env"] = [
        {"name": "MAVEN_OPTS", "value": "-Xmx1g"},
        {"name": "PULL_NUMBER", "value": "bogus"},
    ]
    pod = validated(build_pod(job(pod_spec=spec), build_id=BUILD_ID))
    names = [var["name"] for var in pod["spec"]["containers"][0]["env"]]
    assert names.count("PULL_NUMBER") == 1
    assert names[0] == "MAVEN_OPTS"
    env = env_of(pod["spec"]["containers"][0])
    assert env["PULL_NUMBER"] == "7"
    assert env["MAVEN_OPTS"] == "-Xmx1g"


def test_null_members_from_yaml_are_dropped():
    spec = copy.deepcopy(SEED_SPEC)
    spec["containers"][0]["env"] = None
    spec["nodeSelector"] = None
    pod = validated(build_pod(job(pod_spec=spec), build_id=BUILD_ID))
    assert "nodeSelector" not in pod["spec"]
    assert env_of(pod["spec"]["containers"][0])["CI"] == "true"


def test_service_account_leaves_automount_unset():
    spec = copy.deepcopy(SEED_SPEC)
    spec["serviceAccountName"] = "prow-tests"
    pod = validated(build_pod(job(pod_spec=spec), build_id=BUILD_ID))
    assert pod["spec"]["serviceAccountName"] == "prow-tests"
    assert "automountServiceAccountToken" not in pod["spec"]


def test_explicit_automount_is_kept():
    spec = copy.deepcopy(SEED_SPEC)
    spec["automountServiceAccountToken"] = True
    pod = validated(build_pod(job(pod_spec=spec), build_id=BUILD_ID))
    assert pod["spec"]["automountServiceAccountToken"] is True


@pytest.mark.parametrize("pod_spec", [None, {}, {"containers": []}])
def test_a_job_without_containers_is_refused(pod_spec):
    with pytest.raises(ValueError, match="no containers"):
        build_pod(job(pod_spec=pod_spec), build_id=BUILD_ID)


# --- decoration -----------------------------------------------------------


def test_decorated_presubmit_clones_into_a_shared_volume():
    prowjob = decorated()
    pod = validated(build_pod(prowjob, build_id=BUILD_ID))
    spec = pod["spec"]
    clone_dir = "/home/prow/go/src/github.com/kubernetes/test-infra"

    (clonerefs,) = spec["initContainers"]
    assert clonerefs["name"] == "clonerefs"
    assert clonerefs["image"] == DEFAULT_CLONE_IMAGE
    assert {"name": "code", "mountPath": "/home/prow/go"} in clonerefs["volumeMounts"]
    assert spec["volumes"] == [
        {"name": "code", "emptyDir": {}},
        {"name": "logs", "emptyDir": {}},
    ]

    container, sidecar = spec["containers"]
    assert container["name"] == "test"
    assert sidecar["name"] == "artifacts"
    # Wrapped, so the sidecar learns when it is done; same argv in the end.
    assert container["command"] == [
        "/bin/sh",
        "-c",
        wrapper_script("test"),
        "--",
        "make",
        "test",
    ]
    assert "args" not in container
    assert container["workingDir"] == clone_dir
    assert container["volumeMounts"] == [
        {"name": "code", "mountPath": "/home/prow/go"},
        {"name": "logs", "mountPath": "/logs"},
    ]
    env = env_of(container)
    assert env["ARTIFACTS"] == "/logs/artifacts"
    assert env["GOPATH"] == "/home/prow/go"
    # The documented way for scripts to find their code.
    assert f"{env['GOPATH']}/src/{env['SRC_HOST']}/{env['SRC_BASE']}" == clone_dir

    assert spec["activeDeadlineSeconds"] == 7200
    assert spec["terminationGracePeriodSeconds"] == 15
    assert spec["restartPolicy"] == "Never"


def test_decorated_script_fetches_base_then_each_pull_in_order():
    pod = validated(build_pod(decorated(), build_id=BUILD_ID))
    argvs = commands(script_of(pod))
    uri = "https://github.com/kubernetes/test-infra.git"
    expected = [
        ["mkdir", "-p", "-m", "0777", "/logs/artifacts"],
        ["cd", "/home/prow/go/src/github.com/kubernetes/test-infra"],
        ["fetch", "--tags", "--prune", "--", uri],
        ["fetch", "--", uri, "main"],
        ["git", "checkout", "--quiet", "a" * 40, "--"],
        ["git", "checkout", "--quiet", "-B", "main"],
        ["fetch", "--", uri, "pull/7/head"],
        [
            *MERGE_ENV,
            "git",
            "merge",
            "--no-ff",
            "--quiet",
            "-m",
            f"Merge pull request #7 ({'b' * 40})",
            "--",
            "b" * 40,
        ],
        ["fetch", "--", uri, "pull/9/head"],
        [
            *MERGE_ENV,
            "git",
            "merge",
            "--no-ff",
            "--quiet",
            "-m",
            f"Merge pull request #9 ({'c' * 40})",
            "--",
            "c" * 40,
        ],
        ["git", "submodule", "update", "--init", "--recursive"],
    ]
    positions = [argvs.index(argv) for argv in expected]
    assert positions == sorted(positions)
    assert script_of(pod).startswith("set -eu\n")


@pytest.mark.parametrize(
    ("argument", "utility_images", "expected"),
    [
        ("registry.local/git:1", {"clonerefs": "other/git:2"}, "registry.local/git:1"),
        (None, {"clonerefs": "other/git:2"}, "other/git:2"),
        (None, {"initupload": "other/upload:2"}, DEFAULT_CLONE_IMAGE),
    ],
)
def test_clone_image_precedence(argument, utility_images, expected):
    prowjob = decorated(decoration_config={"utility_images": utility_images})
    pod = validated(build_pod(prowjob, build_id=BUILD_ID, clone_image=argument))
    assert pod["spec"]["initContainers"][0]["image"] == expected


def test_default_clone_image_is_pinned():
    name, _, tag = DEFAULT_CLONE_IMAGE.rpartition(":")
    assert name and tag and tag != "latest"


def test_empty_decoration_config_still_decorates():
    pod = validated(build_pod(decorated(decoration_config={}), build_id=BUILD_ID))
    assert pod["spec"]["initContainers"][0]["name"] == "clonerefs"
    assert "activeDeadlineSeconds" not in pod["spec"]
    assert "terminationGracePeriodSeconds" not in pod["spec"]


def test_multi_container_decorated_pod_keeps_names_and_workdirs():
    spec = {
        "containers": [
            {"name": "unit", "image": "golang:1.23", "command": ["make", "test"]},
            {
                "name": "lint",
                "image": "golang:1.23",
                "args": ["lint"],
                "workingDir": "/src",
                "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
            },
        ],
        "volumes": [{"name": "cache", "emptyDir": {}}],
    }
    pod = validated(build_pod(decorated(pod_spec=spec), build_id=BUILD_ID))
    unit, lint, sidecar = pod["spec"]["containers"]
    assert (unit["name"], lint["name"]) == ("unit", "lint")
    assert sidecar["name"] == "artifacts"
    assert unit["workingDir"] == "/home/prow/go/src/github.com/kubernetes/test-infra"
    assert lint["workingDir"] == "/src"
    assert [m["name"] for m in lint["volumeMounts"]] == ["cache", "code", "logs"]
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["cache", "code", "logs"]
    for container in (unit, lint):
        assert env_of(container)["PULL_NUMBER"] == "7"
        assert env_of(container)["ARTIFACTS"] == "/logs/artifacts"


def test_service_account_on_decorated_pod_leaves_automount_unset():
    spec = copy.deepcopy(DECORATED_SPEC)
    spec["serviceAccountName"] = "deployer"
    pod = validated(build_pod(decorated(pod_spec=spec), build_id=BUILD_ID))
    assert "automountServiceAccountToken" not in pod["spec"]


def test_periodic_with_extra_refs_works_in_the_refs_marked_workdir():
    extra = [
        {"org": "kubernetes", "repo": "test-infra", "base_ref": "master"},
        {
            "org": "acme",
            "repo": "tools",
            "base_ref": "v1",
            "path_alias": "acme.dev/tools",
            "workdir": True,
            "clone_uri": "git@example.com:acme/tools.git",
        },
    ]
    prowjob = job(
        type="periodic",
        refs=None,
        extra_refs=extra,
        pod_spec=copy.deepcopy(DECORATED_SPEC),
        decoration_config={},
    )
    pod = validated(build_pod(prowjob, build_id=BUILD_ID))
    assert pod["spec"]["containers"][0]["workingDir"] == (
        "/home/prow/go/src/acme.dev/tools"
    )
    argvs = commands(script_of(pod))
    first = argvs.index(
        ["fetch", "--", "https://github.com/kubernetes/test-infra.git", "master"]
    )
    second = argvs.index(["fetch", "--", "git@example.com:acme/tools.git", "v1"])
    assert first < second
    # No base SHA: the fetched branch head is what gets tested.
    assert argvs[first + 1] == ["git", "checkout", "--quiet", "FETCH_HEAD", "--"]


def test_workdir_falls_back_to_first_extra_refs():
    prowjob = job(
        type="periodic",
        refs=None,
        extra_refs=[{"org": "a", "repo": "b", "base_ref": "main"}],
        pod_spec=copy.deepcopy(DECORATED_SPEC),
        decoration_config={},
    )
    pod = validated(build_pod(prowjob, build_id=BUILD_ID))
    assert pod["spec"]["containers"][0]["workingDir"] == (
        "/home/prow/go/src/github.com/a/b"
    )


def test_skip_cloning_keeps_the_volumes_but_clones_nothing():
    pod = validated(
        build_pod(decorated(decoration_config={"skip_cloning": True}), build_id="1")
    )
    script = script_of(pod)
    assert not [a for a in commands(script) if a[0] in ("cd", "fetch", "git")]
    assert ["mkdir", "-p", "-m", "0777", "/logs/artifacts"] in commands(script)
    assert "workingDir" not in pod["spec"]["containers"][0]
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["code", "logs"]


def test_clonerefs_resources_come_from_decoration_config():
    resources = {"requests": {"cpu": "100m", "memory": "64Mi"}}
    prowjob = decorated(decoration_config={"resources": {"clonerefs": resources}})
    pod = validated(build_pod(prowjob, build_id=BUILD_ID))
    assert pod["spec"]["initContainers"][0]["resources"] == resources


def test_timeout_is_rounded_up_and_the_stricter_deadline_wins():
    spec = copy.deepcopy(DECORATED_SPEC)
    spec["activeDeadlineSeconds"] = 600
    pod = validated(
        build_pod(
            decorated(pod_spec=spec, decoration_config={"timeout": "1h"}),
            build_id=BUILD_ID,
        )
    )
    assert pod["spec"]["activeDeadlineSeconds"] == 600
    pod = validated(
        build_pod(decorated(decoration_config={"timeout": "1.5s"}), build_id="1")
    )
    assert pod["spec"]["activeDeadlineSeconds"] == 2


def test_unparsable_timeout_is_refused():
    with pytest.raises(ValueError, match="invalid duration"):
        build_pod(decorated(decoration_config={"timeout": "2 hours"}), build_id="1")


def test_github_enterprise_link_sets_clone_url_and_path():
    pod = validated(
        build_pod(
            decorated(),
            build_id=BUILD_ID,
            github_link="https://ghe.example.com/",
        )
    )
    argvs = commands(script_of(pod))
    assert [
        "fetch",
        "--",
        "https://ghe.example.com/kubernetes/test-infra.git",
        "main",
    ] in argvs
    container = pod["spec"]["containers"][0]
    assert container["workingDir"] == (
        "/home/prow/go/src/ghe.example.com/kubernetes/test-infra"
    )
    assert env_of(container)["SRC_HOST"] == "ghe.example.com"


# --- schema validation ----------------------------------------------------


def test_the_schema_check_rejects_a_broken_pod():
    pod = build_pod(decorated(), build_id=BUILD_ID)
    validated(copy.deepcopy(pod))

    typo = copy.deepcopy(pod)
    typo["spec"]["containers"][0]["comand"] = typo["spec"]["containers"][0].pop(
        "command"
    )
    with pytest.raises(kubernetes_validate.ValidationError):
        validated(typo)

    wrong_type = copy.deepcopy(pod)
    wrong_type["spec"]["activeDeadlineSeconds"] = "2h"
    with pytest.raises(kubernetes_validate.ValidationError):
        validated(wrong_type)


# --- the clone script on its own ------------------------------------------


def test_workdir_for():
    assert workdir_for({"org": "o", "repo": "r"}) == "/home/prow/go/src/github.com/o/r"
    assert (
        workdir_for({"org": "o", "repo": "r", "path_alias": "k8s.io/r"})
        == "/home/prow/go/src/k8s.io/r"
    )
    assert (
        workdir_for({"org": "o", "repo": "r"}, "https://ghe.corp", root="/w/")
        == "/w/src/ghe.corp/o/r"
    )


def test_clone_uri_for():
    assert clone_uri_for({"org": "o", "repo": "r"}) == "https://github.com/o/r.git"
    assert (
        clone_uri_for({"org": "o", "repo": "r", "clone_uri": "/srv/r.git"})
        == "/srv/r.git"
    )


def test_clone_script_quotes_every_value():
    refs = {
        "org": "o",
        "repo": "r",
        "base_ref": "it's; rm -rf /",
        "base_sha": "$(reboot)",
        "clone_uri": "/srv/my repo.git",
        "pulls": [{"number": 3, "sha": "`id`", "ref": "--upload-pack=x y"}],
    }
    argvs = commands(clone_script([refs]))
    assert ["fetch", "--", "/srv/my repo.git", "it's; rm -rf /"] in argvs
    assert ["git", "checkout", "--quiet", "$(reboot)", "--"] in argvs
    assert ["fetch", "--", "/srv/my repo.git", "--upload-pack=x y"] in argvs
    merge = next(argv for argv in argvs if "merge" in argv)
    assert merge[-1] == "`id`"
    assert merge[-4:-1] == ["-m", "Merge pull request #3 (`id`)", "--"]


def test_clone_script_honours_clone_options():
    refs = {
        "org": "o",
        "repo": "r",
        "base_ref": "main",
        "clone_depth": 1,
        "blobless_fetch": True,
        "skip_submodules": True,
        "skip_fetch_head": True,
        "pulls": [{"number": 4, "sha": "d" * 40}],
    }
    script = clone_script([refs])
    argvs = commands(script)
    uri = "https://github.com/o/r.git"
    assert ["fetch", "--depth", "1", "--filter=blob:none", "--", uri, "main"] in argvs
    assert [
        "fetch",
        "--depth",
        "1",
        "--filter=blob:none",
        "--",
        uri,
        "pull/4/head",
    ] in argvs
    assert not any("--tags" in argv for argv in argvs)
    assert "submodule" not in script


def test_clone_script_without_refs_only_prepares():
    script = clone_script([], artifacts_dir="/logs/artifacts")
    assert commands(script)[-1] == ["mkdir", "-p", "-m", "0777", "/logs/artifacts"]
    assert "cd " not in script


# --- the clone script, run for real ----------------------------------------


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def git_env(tmp_path, monkeypatch):
    # Independent of the machine's git configuration.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Dev")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "dev@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Dev")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "dev@example.com")
    (tmp_path / "home").mkdir()


@pytest.fixture
def remote(tmp_path, git_env):
    """A bare repository at <tmp>/remote/acme/widget.git, as GitHub would
    serve it: main with two commits, pull 7 and pull 8 branched from the
    first, each under refs/pull/N/head."""
    bare = tmp_path / "remote" / "acme" / "widget.git"
    bare.mkdir(parents=True)
    git(bare, "init", "--quiet", "--bare", "--initial-branch=main")

    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "--quiet", "--initial-branch=main")
    (work / "README").write_text("widget\n")
    git(work, "add", "README")
    git(work, "commit", "--quiet", "-m", "base")
    base_sha = git(work, "rev-parse", "HEAD")

    shas = {}
    for number, filename in ((7, "fix.txt"), (8, "feature.txt")):
        git(work, "checkout", "--quiet", "-b", f"pr{number}", base_sha)
        (work / filename).write_text(f"pull {number}\n")
        git(work, "add", filename)
        git(work, "commit", "--quiet", "-m", f"pull {number}")
        shas[number] = git(work, "rev-parse", "HEAD")
        git(work, "push", "--quiet", str(bare), f"HEAD:refs/pull/{number}/head")

    # main moves on after the job was triggered: the job must still test
    # the base SHA it was given.
    git(work, "checkout", "--quiet", "main")
    (work / "later.txt").write_text("later\n")
    git(work, "add", "later.txt")
    git(work, "commit", "--quiet", "-m", "later")
    git(work, "push", "--quiet", str(bare), "main")
    return {"link": f"file://{tmp_path}/remote", "base": base_sha, "pulls": shas}


def parents_of(checkout: Path, commit: str) -> list[str]:
    return git(checkout, "rev-list", "--parents", "-n", "1", commit).split()[1:]


def run_script(script: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/sh", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def widget_refs(remote, *numbers: int) -> dict:
    return {
        "org": "acme",
        "repo": "widget",
        "base_ref": "main",
        "base_sha": remote["base"],
        "pulls": [{"number": n, "sha": remote["pulls"][n]} for n in numbers],
    }


def test_clone_script_checks_out_base_and_merges_the_pull(tmp_path, remote):
    root = tmp_path / "go"
    script = clone_script([widget_refs(remote, 7)], remote["link"], root=str(root))
    result = run_script(script, tmp_path)
    assert result.returncode == 0, result.stderr

    checkout = Path(workdir_for({"org": "acme", "repo": "widget"}, root=str(root)))
    assert checkout == root / "src" / "github.com" / "acme" / "widget"
    assert (checkout / "fix.txt").read_text() == "pull 7\n"
    assert (checkout / "README").exists()
    assert not (checkout / "later.txt").exists()
    assert parents_of(checkout, "HEAD") == [remote["base"], remote["pulls"][7]]
    assert git(checkout, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    # The test's own GIT_AUTHOR_* settings do not leak into the merge.
    assert git(checkout, "log", "-1", "--format=%an <%ae> %cn <%ce>") == (
        "ci-robot <ci-robot@k8s.io> ci-robot <ci-robot@k8s.io>"
    )
    assert f"merged #7 {remote['pulls'][7]}" in result.stdout


def test_clone_script_merges_pulls_in_order_and_reproducibly(tmp_path, remote):
    heads = []
    for name in ("first", "second"):
        root = tmp_path / name
        script = clone_script(
            [widget_refs(remote, 7, 8)], remote["link"], root=str(root)
        )
        result = run_script(script, tmp_path)
        assert result.returncode == 0, result.stderr
        checkout = root / "src" / "github.com" / "acme" / "widget"
        assert (checkout / "fix.txt").exists()
        assert (checkout / "feature.txt").exists()
        first_merge, pull8 = parents_of(checkout, "HEAD")
        assert pull8 == remote["pulls"][8]
        assert parents_of(checkout, first_merge) == [remote["base"], remote["pulls"][7]]
        heads.append(git(checkout, "rev-parse", "HEAD"))
    assert heads[0] == heads[1]


def test_clone_script_without_base_sha_tests_the_branch_head(tmp_path, remote):
    refs = {
        "org": "acme",
        "repo": "widget",
        "base_ref": "main",
        "clone_uri": str(tmp_path / "remote" / "acme" / "widget.git"),
        "path_alias": "example.com/widget",
    }
    root = tmp_path / "go"
    result = run_script(
        clone_script([refs], "https://unused.invalid", root=str(root)), tmp_path
    )
    assert result.returncode == 0, result.stderr
    checkout = root / "src" / "example.com" / "widget"
    assert (checkout / "later.txt").exists()
    assert not (checkout / "fix.txt").exists()


def test_clone_script_fails_on_a_git_error(tmp_path, remote):
    refs = widget_refs(remote, 7)
    refs["pulls"][0]["sha"] = "f" * 40
    root = tmp_path / "go"
    artifacts = tmp_path / "logs" / "artifacts"
    result = run_script(
        clone_script(
            [refs, widget_refs(remote)],
            remote["link"],
            root=str(root),
            artifacts_dir=str(artifacts),
        ),
        tmp_path,
    )
    assert result.returncode != 0
    # It got as far as the merge, and stopped there: the second refs was
    # never started.
    assert "base main at" in result.stdout
    assert "merged #7" not in result.stdout
    assert "ready at" not in result.stdout
    assert result.stdout.count("clonerefs: cloning") == 1
    assert artifacts.is_dir()
    assert oct(artifacts.stat().st_mode & 0o777) == oct(0o777)


# --- the artifacts sidecar -------------------------------------------------


def sidecar_of(pod: dict) -> dict:
    (sidecar,) = [c for c in pod["spec"]["containers"] if c["name"] == "artifacts"]
    return sidecar


def test_undecorated_pod_has_no_artifacts_sidecar():
    pod = validated(build_pod(job(), build_id=BUILD_ID))
    assert [c["name"] for c in pod["spec"]["containers"]] == ["test"]
    assert pod["spec"]["containers"][0]["command"] == ["/bin/sh", "-c"]


def test_decorated_pod_gets_a_sidecar_waiting_for_the_wrapped_containers():
    spec = {
        "containers": [
            {"name": "unit", "image": "golang:1.23", "command": ["make", "test"]},
            {"name": "lint", "image": "golang:1.23", "args": ["lint"]},
        ]
    }
    pod = validated(build_pod(decorated(pod_spec=spec), build_id=BUILD_ID))
    unit, lint, sidecar = pod["spec"]["containers"]
    assert sidecar["image"] == DEFAULT_CLONE_IMAGE
    assert sidecar["volumeMounts"] == [{"name": "logs", "mountPath": "/logs"}]
    assert sidecar["command"][:2] == ["/bin/sh", "-c"]
    script = sidecar["command"][2]
    assert "/logs/done-unit" in script
    # Only args: the image's entrypoint is unknown, so it cannot be wrapped
    # and the sidecar must not wait for a marker that never comes.
    assert lint["args"] == ["lint"] and "command" not in lint
    assert "done-lint" not in script
    assert "tar -czf - . | base64" in script
    # Bounded by the pod's own deadline (2h).
    assert "7200" in script


def test_a_job_container_named_artifacts_gets_no_sidecar():
    spec = {"containers": [{"name": "artifacts", "image": "x", "command": ["y"]}]}
    spec["containers"].append({"name": "unit", "image": "x", "command": ["z"]})
    pod = validated(build_pod(decorated(pod_spec=spec), build_id=BUILD_ID))
    assert [c["name"] for c in pod["spec"]["containers"]] == ["artifacts", "unit"]
    assert pod["spec"]["containers"][1]["command"] == ["z"]


def run_wrapped(tmp_path: Path, argv: list[str]) -> subprocess.CompletedProcess:
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    script = wrapper_script("test", logs_root=str(logs))
    return subprocess.run(
        ["/bin/sh", "-c", script, "--", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_wrapper_runs_the_argv_as_is_and_leaves_the_marker(tmp_path):
    argv = ["printf", "%s|", "two words", 'it\'s "quoted"', "$HOME", "*"]
    result = run_wrapped(tmp_path, argv)
    assert result.returncode == 0
    assert result.stdout == 'two words|it\'s "quoted"|$HOME|*|'
    assert (tmp_path / "logs" / "done-test").exists()


def test_wrapper_keeps_a_failing_exit_code(tmp_path):
    result = run_wrapped(tmp_path, ["sh", "-c", "echo failing >&2; exit 3"])
    assert result.returncode == 3
    assert "failing" in result.stderr
    assert (tmp_path / "logs" / "done-test").exists()


def test_wrapper_marks_a_command_that_cannot_run(tmp_path):
    result = run_wrapped(tmp_path, ["/nonexistent/binary"])
    assert result.returncode == 127
    assert (tmp_path / "logs" / "done-test").exists()


def test_wrapper_passes_sigterm_to_the_command(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    script = wrapper_script("test", logs_root=str(logs))
    ready = tmp_path / "ready"
    child = f"trap 'exit 42' TERM; touch {ready}; while :; do sleep 0.1; done"
    process = subprocess.Popen(["/bin/sh", "-c", script, "--", "sh", "-c", child])
    try:
        for _ in range(100):
            if ready.exists():
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 42
    finally:
        process.kill()
    assert (logs / "done-test").exists()


def test_sidecar_script_waits_for_markers_then_prints_the_tar(tmp_path):
    logs = tmp_path / "logs"
    (logs / "artifacts" / "junit").mkdir(parents=True)
    (logs / "artifacts" / "junit" / "report.xml").write_text("<ok/>")
    script = artifacts_script(["unit", "e2e"], logs_root=str(logs))
    process = subprocess.Popen(
        ["/bin/sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        (logs / "done-unit").touch()
        time.sleep(1.5)
        assert process.poll() is None  # e2e is not done yet
        (logs / "done-e2e").touch()
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    assert err == b""
    data = base64.b64decode(b"".join(out.split()))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        member = archive.extractfile("./junit/report.xml")
        assert member is not None and member.read() == b"<ok/>"


def test_sidecar_script_gives_up_waiting_at_the_deadline(tmp_path):
    logs = tmp_path / "logs"
    (logs / "artifacts").mkdir(parents=True)
    script = artifacts_script(["unit"], logs_root=str(logs), deadline=1)
    result = subprocess.run(["/bin/sh", "-c", script], capture_output=True, timeout=20)
    assert result.returncode == 0
    assert result.stdout.strip()


def test_sidecar_script_exits_0_without_an_artifacts_folder(tmp_path):
    script = artifacts_script([], logs_root=str(tmp_path / "missing"))
    result = subprocess.run(["/bin/sh", "-c", script], capture_output=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
