"""Drive FakeKube through the real kubernetes client over HTTP."""

import json
import re
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import kubernetes_validate
import pytest
import requests
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tests.fakes.kube import FakeKube

NS = "test-pods"


@pytest.fixture
def kube():
    with FakeKube(namespaces=["default", NS]) as server:
        yield server


@pytest.fixture
def api(kube, tmp_path):
    path = kube.write_kubeconfig(tmp_path / "kubeconfig", contexts={"default": NS})
    api_client = config.new_client_from_config(config_file=str(path))
    yield client.CoreV1Api(api_client)
    api_client.close()


def make_pod(name, labels=None, containers=("test",)):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(name=c, image="busybox", args=["true"])
                for c in containers
            ],
            restart_policy="Never",
        ),
    )


def error_body(excinfo):
    return json.loads(excinfo.value.body)


# ------------------------------------------------------------- create / get


def test_create_then_get_round_trips(kube, api):
    created = api.create_namespaced_pod(NS, make_pod("job-1", {"app": "web"}))
    fetched = api.read_namespaced_pod("job-1", NS)

    assert created.metadata.uid and fetched.metadata.uid == created.metadata.uid
    assert fetched.metadata.namespace == NS
    assert fetched.metadata.labels == {"app": "web"}
    assert fetched.metadata.creation_timestamp.tzinfo is not None
    assert fetched.status.phase == "Pending"
    assert fetched.spec.containers[0].args == ["true"]
    assert [p["metadata"]["name"] for p in kube.pods(NS)] == ["job-1"]
    (post,) = kube.requests("POST")
    assert (post.status, post.body["metadata"]["name"]) == (201, "job-1")


def test_second_create_is_409_already_exists(api):
    api.create_namespaced_pod(NS, make_pod("job-1"))

    with pytest.raises(ApiException) as excinfo:
        api.create_namespaced_pod(NS, make_pod("job-1"))

    assert excinfo.value.status == 409
    body = error_body(excinfo)
    assert (body["kind"], body["status"], body["reason"], body["code"]) == (
        "Status",
        "Failure",
        "AlreadyExists",
        409,
    )
    assert body["message"] == 'pods "job-1" already exists'


def test_get_missing_pod_is_404(api):
    with pytest.raises(ApiException) as excinfo:
        api.read_namespaced_pod("nope", NS)

    assert excinfo.value.status == 404
    assert error_body(excinfo)["reason"] == "NotFound"
    assert error_body(excinfo)["message"] == 'pods "nope" not found'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"metadata": {"name": "empty"}, "spec": {"containers": []}},
            "spec.containers",
        ),
        (
            {"metadata": {}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
            "metadata.name",
        ),
        (
            {
                "metadata": {"name": "x", "labels": {"a": "v" * 64}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
            "metadata.labels[a]",
        ),
    ],
)
def test_invalid_pods_are_422(kube, api, body, field):
    with pytest.raises(ApiException) as excinfo:
        api.create_namespaced_pod(NS, body)

    assert excinfo.value.status == 422
    status = error_body(excinfo)
    assert status["reason"] == "Invalid"
    assert [cause["field"] for cause in status["details"]["causes"]] == [field]
    assert kube.pods() == []


def test_unknown_fields_fail_the_schema_unless_turned_off(kube):
    # The client's models refuse unknown fields, so post the typo'd dict raw.
    body = {
        "metadata": {"name": "x"},
        "spec": {"containers": [{"name": "c", "image": "i", "argz": []}]},
    }
    url = f"{kube.url}/api/v1/namespaces/{NS}/pods"
    headers = {"Authorization": f"Bearer {kube.token('raw')}"}

    refused = requests.post(url, json=body, headers=headers, timeout=5)
    kube.schema_version = None
    accepted = requests.post(url, json=body, headers=headers, timeout=5)

    assert refused.status_code == 422
    (cause,) = refused.json()["details"]["causes"]
    assert cause["field"] == "spec.containers[0]"
    assert "'argz' was unexpected" in cause["message"]
    assert accepted.status_code == 201
    assert kube.pod(NS, "x")["spec"]["containers"][0]["argz"] == []


def test_add_pod_seeds_and_validates(kube, api):
    kube.add_pod(
        {
            "metadata": {"name": "old"},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
        },
        NS,
    )

    assert api.read_namespaced_pod("old", NS).spec.restart_policy == "Always"
    with pytest.raises(ValueError, match="spec.containers: Required value"):
        kube.add_pod({"metadata": {"name": "empty"}, "spec": {"containers": []}}, NS)


def test_generate_name_and_missing_namespace(api):
    pod = make_pod(None)
    pod.metadata.generate_name = "job-"
    created = api.create_namespaced_pod(NS, pod)
    assert re.fullmatch(r"job-[0-9a-f]{5}", created.metadata.name)

    with pytest.raises(ApiException) as excinfo:
        api.create_namespaced_pod("absent", make_pod("job-1"))
    assert excinfo.value.status == 404
    assert error_body(excinfo)["message"] == 'namespaces "absent" not found'


# ------------------------------------------------------------------- listing

LABELLED = {
    "web-front": {"app": "web", "tier": "front"},
    "web-back": {"app": "web"},
    "db": {"app": "db", "tier": "back"},
    "bare": {},
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", {"web-front", "web-back", "db", "bare"}),
        ("app=web", {"web-front", "web-back"}),
        ("app==web", {"web-front", "web-back"}),
        ("app!=web", {"db", "bare"}),
        ("tier", {"web-front", "db"}),
        ("!tier", {"web-back", "bare"}),
        ("app in (web,db)", {"web-front", "web-back", "db"}),
        ("app notin (web)", {"db", "bare"}),
        ("app=web,tier=front", {"web-front"}),
        (" app in (web, db) , !tier ", {"web-back"}),
    ],
)
def test_list_by_label_selector(kube, api, selector, expected):
    for name, labels in LABELLED.items():
        api.create_namespaced_pod(NS, make_pod(name, labels or None))

    found = api.list_namespaced_pod(NS, label_selector=selector)

    assert {pod.metadata.name for pod in found.items} == expected
    assert kube.requests("GET", f"/api/v1/namespaces/{NS}/pods")[-1].query == (
        {"labelSelector": selector} if selector else {}
    )


def test_bad_selector_is_400(api):
    with pytest.raises(ApiException) as excinfo:
        api.list_namespaced_pod(NS, label_selector="app in web")

    assert excinfo.value.status == 400
    assert error_body(excinfo)["reason"] == "BadRequest"


def test_list_across_namespaces(kube, api):
    api.create_namespaced_pod(NS, make_pod("a", {"created-by-prow": "true"}))
    api.create_namespaced_pod("default", make_pod("b", {"created-by-prow": "true"}))
    api.create_namespaced_pod(NS, make_pod("c"))

    everywhere = api.list_pod_for_all_namespaces(label_selector="created-by-prow=true")

    assert {(p.metadata.namespace, p.metadata.name) for p in everywhere.items} == {
        (NS, "a"),
        ("default", "b"),
    }
    assert kube.requests("GET")[-1].path == "/api/v1/pods"
    assert {p["metadata"]["name"] for p in kube.pods("default")} == {"b"}
    with pytest.raises(ApiException) as excinfo:
        api.list_pod_for_all_namespaces(field_selector="status.phase=Running")
    assert excinfo.value.status == 400


# ------------------------------------------------------------------ deletion


def test_delete_returns_pod_then_404(kube, api):
    api.create_namespaced_pod(NS, make_pod("job-1"))

    deleted = api.delete_namespaced_pod("job-1", NS)

    assert deleted.metadata.name == "job-1"
    assert kube.pods() == []
    with pytest.raises(ApiException) as excinfo:
        api.delete_namespaced_pod("job-1", NS)
    assert excinfo.value.status == 404


def test_graceful_delete_marks_until_finished(kube, api):
    kube.graceful = True
    api.create_namespaced_pod(NS, make_pod("job-1"))
    api.create_namespaced_pod(NS, make_pod("job-2"))

    marked = api.delete_namespaced_pod("job-1", NS)
    api.delete_namespaced_pod("job-2", NS, grace_period_seconds=0)

    assert marked.metadata.deletion_timestamp is not None
    assert marked.metadata.deletion_grace_period_seconds == 30
    still = api.read_namespaced_pod("job-1", NS)
    assert still.metadata.deletion_timestamp == marked.metadata.deletion_timestamp
    assert [p["metadata"]["name"] for p in kube.pods()] == ["job-1"]
    assert kube.finish_deletion() == 1
    with pytest.raises(ApiException) as excinfo:
        api.read_namespaced_pod("job-1", NS)
    assert excinfo.value.status == 404


def test_remove_vanishes_without_an_api_call(kube, api):
    api.create_namespaced_pod(NS, make_pod("job-1"))
    kube.clear_requests()

    kube.remove(NS, "job-1")

    assert kube.requests() == []
    assert api.list_namespaced_pod(NS).items == []


# -------------------------------------------------------------------- phases


def test_running_pod_deserialises(kube, api):
    api.create_namespaced_pod(NS, make_pod("job-1"))

    kube.run(NS, "job-1")
    pod = api.read_namespaced_pod("job-1", NS)

    assert pod.status.phase == "Running"
    assert pod.status.start_time is not None
    assert pod.spec.node_name == "fake-node"
    (container,) = pod.status.container_statuses
    assert (container.name, container.ready) == ("test", True)
    assert container.state.running.started_at is not None
    assert container.state.terminated is None


def test_failed_pod_has_terminated_exit_codes(kube, api):
    api.create_namespaced_pod(NS, make_pod("job-1", containers=("test", "sidecar")))

    kube.set_phase(NS, "job-1", "Failed", exit_codes={"test": 1, "sidecar": 0})
    pod = api.read_namespaced_pod("job-1", NS)

    assert pod.status.phase == "Failed"
    codes = {
        s.name: (s.state.terminated.exit_code, s.state.terminated.reason)
        for s in pod.status.container_statuses
    }
    assert codes == {"test": (1, "Error"), "sidecar": (0, "Completed")}
    assert pod.status.container_statuses[0].state.terminated.exit_code == 1


def test_succeed_fail_and_oom_kill(kube, api):
    for name in ("ok", "bad", "oom"):
        api.create_namespaced_pod(NS, make_pod(name))

    kube.succeed(NS, "ok")
    kube.fail(NS, "bad", exit_code=2)
    kube.fail(NS, "oom", exit_code=137, reason="OOMKilled")

    def terminated(name):
        pod = api.read_namespaced_pod(name, NS)
        state = pod.status.container_statuses[0].state.terminated
        return pod.status.phase, state.exit_code, state.reason, pod.status.reason

    assert terminated("ok") == ("Succeeded", 0, "Completed", None)
    assert terminated("bad") == ("Failed", 2, "Error", None)
    assert terminated("oom") == ("Failed", 137, "OOMKilled", None)


def test_waiting_reasons_and_eviction(kube, api):
    for name in ("pull", "evicted"):
        api.create_namespaced_pod(NS, make_pod(name))

    kube.set_phase(NS, "pull", "Pending", reason="ImagePullBackOff", message="no")
    kube.set_phase(NS, "evicted", "Failed", reason="Evicted", message="low memory")

    pull = api.read_namespaced_pod("pull", NS)
    waiting = pull.status.container_statuses[0].state.waiting
    assert (pull.status.phase, waiting.reason, waiting.message) == (
        "Pending",
        "ImagePullBackOff",
        "no",
    )
    assert pull.status.reason is None
    evicted = api.read_namespaced_pod("evicted", NS)
    assert (evicted.status.reason, evicted.status.message) == ("Evicted", "low memory")
    assert evicted.status.container_statuses[0].state.terminated is not None


def test_unschedulable_and_no_start_time(kube, api):
    api.create_namespaced_pod(NS, make_pod("big"))
    api.create_namespaced_pod(NS, make_pod("slow"))

    kube.set_unschedulable(NS, "big")
    kube.set_phase(NS, "slow", "Pending", start_time=False, container_state="waiting")

    big = api.read_namespaced_pod("big", NS)
    assert (big.status.phase, big.status.start_time, big.spec.node_name) == (
        "Pending",
        None,
        None,
    )
    (condition,) = big.status.conditions
    assert (condition.type, condition.status, condition.reason) == (
        "PodScheduled",
        "False",
        "Unschedulable",
    )
    slow = api.read_namespaced_pod("slow", NS)
    assert slow.status.start_time is None
    assert slow.status.container_statuses[0].state.waiting.reason == "ContainerCreating"


def test_set_phase_rejects_unknown_phase(kube, api):
    api.create_namespaced_pod(NS, make_pod("job-1"))

    with pytest.raises(ValueError, match="unknown phase"):
        kube.set_phase(NS, "job-1", "Done")
    with pytest.raises(KeyError):
        kube.run(NS, "missing")


# ---------------------------------------------------------------------- logs


def test_log_by_container_tail_and_limit(kube, api):
    api.create_namespaced_pod(NS, make_pod("job-1", containers=("test", "sidecar")))
    kube.run(NS, "job-1")
    kube.set_log(NS, "job-1", "test", "one\ntwo\n")
    kube.append_log(NS, "job-1", "test", "three\n")
    kube.set_log(NS, "job-1", "sidecar", "uploading\n")

    def log(**params):
        return api.read_namespaced_pod_log("job-1", NS, **params)

    assert log(container="test") == "one\ntwo\nthree\n"
    assert log(container="sidecar") == "uploading\n"
    assert log(container="test", tail_lines=2) == "two\nthree\n"
    assert log(container="test", limit_bytes=5) == "one\nt"
    assert kube.requests(path=re.compile(r"/log$"))[0].query == {"container": "test"}


def test_log_errors(kube, api):
    api.create_namespaced_pod(NS, make_pod("job-1", containers=("test", "sidecar")))
    api.create_namespaced_pod(NS, make_pod("single"))

    def status_of(name, **params):
        with pytest.raises(ApiException) as excinfo:
            api.read_namespaced_pod_log(name, NS, **params)
        return excinfo.value.status, error_body(excinfo)["message"]

    assert status_of("job-1", container="nope") == (
        400,
        "container nope is not valid for pod job-1",
    )
    assert status_of("job-1")[0] == 400
    assert status_of("missing", container="test")[0] == 404
    # A container that has not started has no log yet.
    assert status_of("single") == (
        400,
        'container "test" in pod "single" is waiting to start: ContainerCreating',
    )
    kube.run(NS, "single")
    assert api.read_namespaced_pod_log("single", NS) == ""


# -------------------------------------------------- contexts, probes, requests


def test_two_contexts_reach_the_fake_with_their_namespaces(kube, tmp_path):
    path = kube.write_kubeconfig(
        tmp_path / "kubeconfig",
        contexts={"build-a": "ns-a", "build-b": "ns-b"},
        current="build-b",
    )
    contexts, current = config.list_kube_config_contexts(config_file=str(path))
    assert current["name"] == "build-b"

    for entry in contexts:
        api_client = config.new_client_from_config(
            config_file=str(path), context=entry["name"]
        )
        namespace = entry["context"]["namespace"]
        client.CoreV1Api(api_client).create_namespaced_pod(
            namespace, make_pod(f"from-{entry['name']}")
        )
        api_client.close()

    posts = kube.requests("POST")
    assert [(r.context, r.namespace, r.status) for r in posts] == [
        ("build-a", "ns-a", 201),
        ("build-b", "ns-b", 201),
    ]
    assert posts[0].headers["authorization"] == f"Bearer {kube.token('build-a')}"
    assert {p["metadata"]["namespace"] for p in kube.pods()} == {"ns-a", "ns-b"}


def test_load_kube_config_and_configuration(kube, tmp_path):
    path = kube.write_kubeconfig(tmp_path / "kubeconfig", contexts=["other"])
    loaded = client.Configuration()
    config.load_kube_config(
        config_file=str(path), context="other", client_configuration=loaded
    )
    with client.ApiClient(loaded) as api_client:
        version = client.VersionApi(api_client).get_code()
    with client.ApiClient(kube.configuration("direct")) as api_client:
        namespace = client.CoreV1Api(api_client).read_namespace(NS)

    assert version.git_version == "v1.30.0"
    assert namespace.metadata.name == NS and namespace.status.phase == "Active"
    assert [r.context for r in kube.requests()] == ["other", "direct"]


def test_missing_namespace_probe_is_404(api):
    with pytest.raises(ApiException) as excinfo:
        api.read_namespace("absent")

    assert excinfo.value.status == 404
    assert error_body(excinfo)["details"] == {"name": "absent", "kind": "namespaces"}


def test_unauthenticated_request_is_401(kube):
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(f"{kube.url}/api/v1/namespaces/{NS}/pods")

    assert excinfo.value.code == 401
    assert json.loads(excinfo.value.read())["reason"] == "Unauthorized"


def test_fault_injection_then_success(kube, api):
    api.create_namespaced_pod(NS, make_pod("job-1"))
    kube.fail_next("GET", r"/pods/job-1$", status=500, times=2)
    kube.fail_next("POST", r"/pods$", status=503, message="etcd is down")

    for _ in range(2):
        with pytest.raises(ApiException) as excinfo:
            api.read_namespaced_pod("job-1", NS)
        assert excinfo.value.status == 500
        assert error_body(excinfo)["reason"] == "InternalError"
    with pytest.raises(ApiException) as excinfo:
        api.create_namespaced_pod(NS, make_pod("job-2"))

    assert error_body(excinfo)["message"] == "etcd is down"
    assert api.read_namespaced_pod("job-1", NS).metadata.name == "job-1"
    statuses = [
        r.status for r in kube.requests("GET", f"/api/v1/namespaces/{NS}/pods/job-1")
    ]
    assert statuses == [500, 500, 200]
    assert [p["metadata"]["name"] for p in kube.pods()] == ["job-1"]


def test_request_filters_and_clear(kube, api):
    api.create_namespaced_pod(NS, make_pod("job-1"))
    api.read_namespaced_pod("job-1", NS)
    api.delete_namespaced_pod("job-1", NS)

    assert [r.method for r in kube.requests()] == ["POST", "GET", "DELETE"]
    assert len(kube.requests(path=re.compile(r"/pods/job-1$"))) == 2
    assert kube.requests("get", f"/api/v1/namespaces/{NS}/pods/job-1")[0].status == 200
    kube.clear_requests()
    assert kube.requests() == []


# ------------------------------------------------------------ schema tooling


def test_kubernetes_validate_checks_pods_against_the_schema():
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "job-1", "labels": {"created-by-prow": "true"}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "test", "image": "busybox", "args": ["true"]}],
        },
    }

    assert kubernetes_validate.validate(pod, "1.30", strict=True) == "1.30"
    pod["spec"]["containers"][0]["args"] = "true"
    with pytest.raises(kubernetes_validate.ValidationError, match="not of type"):
        kubernetes_validate.validate(pod, "1.30", strict=True)
    pod["spec"]["containers"][0] = {"name": "test", "image": "busybox", "cmd": []}
    with pytest.raises(
        kubernetes_validate.ValidationError, match="'cmd' was unexpected"
    ):
        kubernetes_validate.validate(pod, "1.30", strict=True)


def test_concurrent_creates_are_all_kept(kube, api):
    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(
            pool.map(
                lambda i: api.create_namespaced_pod(NS, make_pod(f"job-{i}")),
                range(24),
            )
        )

    assert len({pod.metadata.uid for pod in created}) == 24
    assert len(kube.pods(NS)) == 24
    assert len({p["metadata"]["resourceVersion"] for p in kube.pods()}) == 24
