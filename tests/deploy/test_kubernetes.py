"""The Kubernetes manifests, rendered with `kubectl kustomize` (client-side,
no cluster) and each object validated against the Kubernetes schemas."""

import os
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from prow.config.validation import validate as validate_prow_config
from tests.conftest import ROOT

KUSTOMIZE = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("base", "overlays/trial", "overlays/production")
CURRENT_APIS = {
    "v1",
    "apps/v1",
    "batch/v1",
    "networking.k8s.io/v1",
    "rbac.authorization.k8s.io/v1",
    "policy/v1",
}
WORKLOADS = ("Deployment", "StatefulSet", "Job")


def supported_versions() -> list[str]:
    """The newest Kubernetes the validator knows and the oldest minor still
    supported upstream (the newest three minors are)."""
    newest = latest_version()
    major, minor, _ = newest.split(".")
    return [f"{major}.{int(minor) - 2}.0", newest]


def render(overlay: str) -> list[dict]:
    # Any kubectl from Debian's (kustomize v2) on renders these files alike.
    kubectl = os.environ.get("PROW_TEST_KUBECTL") or shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is needed: apt-get install kubernetes-client")
    out = subprocess.run(
        [kubectl, "kustomize", str(KUSTOMIZE / overlay)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def find(objects, kind, name):
    (found,) = [
        o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name
    ]
    return found


def pod_specs(objects):
    for obj in objects:
        if obj["kind"] in WORKLOADS:
            yield obj, obj["spec"]["template"]["spec"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_for_supported_kubernetes(overlay):
    objects = render(overlay)
    assert len(objects) > 10
    for version in supported_versions():
        for obj in objects:
            assert obj["apiVersion"] in CURRENT_APIS, obj["apiVersion"]
            kubernetes_validate.validate(obj, version, strict=True)


def test_strict_validation_catches_a_misspelt_field():
    deployment = find(render("base"), "Deployment", "prow-web")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, supported_versions()[0], strict=True)


def test_the_oldest_supported_version_is_known_to_the_validator():
    versions = supported_versions()
    assert versions[0] != versions[1]
    kubernetes_validate.validate(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}},
        versions[0],
        strict=True,
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_our_pods_meet_the_restricted_pod_security_standard(overlay):
    objects = render(overlay)
    namespace = find(objects, "Namespace", "prow")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
        "restricted"
    )
    checked = 0
    for obj, spec in pod_specs(objects):
        assert obj["metadata"]["namespace"] == "prow"
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for volume in spec.get("volumes", []):
            assert "hostPath" not in volume
        for container in spec["containers"] + spec.get("initContainers", []):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert not context.get("privileged")
            assert "resources" not in container or "limits" in container["resources"]
        checked += 1
    assert checked >= 3


def test_only_the_worker_may_touch_pods_and_only_in_test_pods():
    objects = render("base")
    kinds = {o["kind"] for o in objects}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}
    roles = [o for o in objects if o["kind"] == "Role"]
    bindings = [o for o in objects if o["kind"] == "RoleBinding"]
    assert [r["metadata"]["namespace"] for r in roles] == ["test-pods"]
    (role,) = roles
    assert {tuple(r["resources"]): set(r["verbs"]) for r in role["rules"]} == {
        ("pods",): {"create", "get", "list", "watch", "delete"},
        ("pods/log",): {"get"},
    }
    (binding,) = bindings
    assert binding["metadata"]["namespace"] == "test-pods"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "prow-worker", "namespace": "prow"}
    ]
    for name in ("prow-web", "prow-beat"):
        account = find(objects, "ServiceAccount", name)
        assert account["automountServiceAccountToken"] is False
    accounts = {
        o["metadata"]["name"]: spec["serviceAccountName"]
        for o, spec in pod_specs(objects)
    }
    assert accounts == {
        "prow-web": "prow-web",
        "prow-worker": "prow-worker",
        "prow-beat": "prow-beat",
    }


def test_web_worker_and_beat_deployments():
    objects = render("base")
    web = find(objects, "Deployment", "prow-web")
    assert web["spec"]["replicas"] == 2
    assert web["spec"]["strategy"]["type"] == "RollingUpdate"
    (container,) = web["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz/ready"
    beat = find(objects, "Deployment", "prow-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    # One apply upgrades: beat migrates first, the others wait for it.
    (migrate,) = beat["spec"]["template"]["spec"]["initContainers"]
    assert "migrate --no-input" in " ".join(migrate["command"])
    for name in ("prow-web", "prow-worker"):
        spec = find(objects, "Deployment", name)["spec"]["template"]["spec"]
        (wait,) = spec["initContainers"]
        assert "migrate --check" in " ".join(wait["command"])
    worker = find(objects, "Deployment", "prow-worker")
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 150


def test_config_maps_are_mounted_where_the_settings_read_them():
    objects = render("base")
    settings = find(objects, "ConfigMap", "prow-settings")["data"]
    config = find(objects, "ConfigMap", "config")["data"]["config.yaml"]
    plugins = find(objects, "ConfigMap", "plugins")["data"]["plugins.yaml"]
    assert validate_prow_config(config, plugins).ok
    for _, spec in pod_specs(objects):
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in spec["containers"]:
            mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
            for variable, configmap, key in (
                ("PROW_CONFIG_PATH", "config", "config.yaml"),
                ("PROW_PLUGIN_CONFIG_PATH", "plugins", "plugins.yaml"),
            ):
                path = Path(settings[variable])
                assert path.name == key
                mount = mounts[str(path.parent)]
                # A subPath mount would never see a ConfigMap update.
                assert "subPath" not in mount
                assert volumes[mount["name"]]["configMap"]["name"] == configmap
            secrets = {
                volumes[m["name"]]["secret"]["secretName"]: path
                for path, m in mounts.items()
                if "secret" in volumes[m["name"]]
            }
            # The seed's Secrets, at the seed's paths.
            assert secrets == {
                "hmac-token": "/etc/webhook",
                "oauth-token": "/etc/github",
            }
            assert settings["PROW_HMAC_SECRET_FILE"] == "/etc/webhook/hmac"
            assert settings["PROW_GITHUB_TOKEN_PATH"] == "/etc/github/oauth"


def test_ingress_routes_deck_and_the_hook_to_web():
    objects = render("base")
    ingress = find(objects, "Ingress", "prow")
    paths = {
        p["path"]: p["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert paths == {"/": "prow-web", "/hook": "prow-web"}
    service = find(objects, "Service", "prow-web")
    assert [p["name"] for p in service["spec"]["ports"]] == ["http"]
    metrics = find(objects, "Service", "prow-worker-metrics")
    assert [p["name"] for p in metrics["spec"]["ports"]] == ["metrics"]


def test_trial_runs_its_own_database_and_production_takes_secrets():
    trial = render("overlays/trial")
    assert find(trial, "StatefulSet", "postgres")
    assert find(trial, "StatefulSet", "redis")
    assert {"url"} <= set(find(trial, "Secret", "prow-database")["stringData"])
    assert {"url"} <= set(find(trial, "Secret", "prow-broker")["stringData"])
    production = render("overlays/production")
    assert not [o for o in production if o["kind"] in ("StatefulSet", "Secret")]
    for _, spec in pod_specs(production):
        env = {e["name"]: e for e in spec["containers"][0]["env"]}
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == (
            "prow-database"
        )
        assert env["CELERY_BROKER_URL"]["valueFrom"]["secretKeyRef"]["name"] == (
            "prow-broker"
        )
