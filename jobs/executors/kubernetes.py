"""Pods on Kubernetes, through the official client.

Credentials come from the cluster itself (in-cluster service account) or
from KUBECONFIG, whose contexts name the build clusters: a job's `cluster`
is a context name, and "default" means the current context.
"""

import base64
import binascii
import io
import json
import logging
import os
import tarfile
import threading
import zlib
from pathlib import PurePosixPath

from kubernetes import client, config
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError

from jobs.executors.base import (
    MISSING,
    Collected,
    ContainerState,
    ExecutorError,
    ExecutorTransientError,
    PodExists,
    PodStatus,
    PodSummary,
)
from jobs.labels import BUILD_ID_LABEL

logger = logging.getLogger(__name__)
TIMEOUT = 15  # seconds for any one API call
# The sidecar jobs.pods adds to decorated pods (ARTIFACTS_CONTAINER_NAME).
ARTIFACTS_CONTAINER = "artifacts"


def in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


class KubernetesExecutor:
    kind = "kubernetes"

    def __init__(self, api: client.CoreV1Api, cluster: str):
        self.api = api
        self.cluster = cluster

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, _request_timeout=TIMEOUT, **kwargs)
        except ApiException:
            raise  # the caller knows what each status means
        except (HTTPError, OSError) as exc:
            raise ExecutorTransientError(
                f"cluster {self.cluster} unreachable during {what}: {exc}"
            )

    def create(self, pod: dict) -> None:
        namespace = pod["metadata"]["namespace"]
        try:
            self._call("pod creation", self.api.create_namespaced_pod, namespace, pod)
        except ApiException as exc:
            if exc.status == 409:
                raise PodExists(pod["metadata"]["name"])
            # A 4xx is the spec refused: sending it again changes nothing.
            refused = exc.status is not None and 400 <= exc.status < 500
            error = ExecutorError if refused else ExecutorTransientError
            raise error(f"{exc.status} {_message(exc)}")

    def status(self, namespace: str, name: str) -> PodStatus:
        try:
            pod = self._call("pod read", self.api.read_namespaced_pod, name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return MISSING
            raise ExecutorTransientError(f"{exc.status} {_message(exc)}")
        return _status(pod)

    def delete(self, namespace: str, name: str) -> None:
        try:
            self._call("pod deletion", self.api.delete_namespaced_pod, name, namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise ExecutorTransientError(f"{exc.status} {_message(exc)}")

    def logs(self, namespace: str, name: str, container: str, limit_bytes: int) -> str:
        try:
            return self._call(
                "log read",
                self.api.read_namespaced_pod_log,
                name,
                namespace,
                container=container,
                limit_bytes=limit_bytes,
            )
        except ApiException as exc:
            if exc.status in (400, 404):
                return ""
            raise ExecutorTransientError(f"{exc.status} {_message(exc)}")

    def artifacts(
        self, namespace: str, name: str, limit: int, max_files: int | None = None
    ) -> Collected:
        """Files the job wrote under $ARTIFACTS, up to limit bytes and
        max_files files in all, as the pod's "artifacts" sidecar printed them
        (jobs.pods); [] when the pod has no such container or its log is not
        a readable archive."""
        # base64 adds a third and line breaks; gzip of incompressible files
        # and tar headers add a little: leave room for `limit` bytes of files.
        text = self.logs(namespace, name, ARTIFACTS_CONTAINER, limit * 2 + (1 << 20))
        return unpack_artifacts(text, limit, max_files)

    def list_pods(self, namespace: str, selector: str) -> list[PodSummary]:
        try:
            pods = self._call(
                "pod listing",
                self.api.list_namespaced_pod,
                namespace,
                label_selector=selector,
            )
        except ApiException as exc:
            raise ExecutorTransientError(f"{exc.status} {_message(exc)}")
        return [_summary(pod) for pod in pods.items]


def unpack_artifacts(text: str, limit: int, max_files: int | None = None) -> Collected:
    """The regular files in a base64-encoded gzipped tar, up to `limit` bytes
    in all; members that could land outside the folder (absolute paths,
    "..") and anything but regular files are skipped.

    The text may be cut short (a log read with a byte limit): the files
    complete before the cut are returned.
    """
    encoded = "".join(text.split())
    encoded = encoded[: len(encoded) - len(encoded) % 4]
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return Collected()
    files: dict[str, bytes] = {}
    left_out: list[str] = []
    total = skipped = entries = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r|gz") as archive:
            for member in archive:
                entries += 1
                # Every member counts, folders and junk too: a million empty
                # entries cost as much to walk as a million files.
                if max_files is not None and entries > max_files:
                    left_out.append(f"more than {max_files} files")
                    break
                relative = _safe_name(member.name)
                if relative is None or not member.isfile():
                    # Still read through, so count it: a stream of junk
                    # must not keep us decompressing forever.
                    skipped += member.size
                    if skipped > limit:
                        break
                    continue
                if total + member.size > limit:
                    left_out.append(f"more than {limit} bytes in all")
                    break
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                files[relative] = handle.read()
                total += member.size
    except (tarfile.TarError, EOFError, OSError, zlib.error):
        # Cut short or garbled: keep what was whole.
        pass
    collected = Collected(files.items())
    collected.left_out = left_out
    return collected


def _safe_name(name: str) -> str | None:
    path = PurePosixPath(name)
    if path.is_absolute():
        return None
    parts = [part for part in path.parts if part != "."]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _message(exc: ApiException) -> str:
    try:
        return json.loads(exc.body).get("message", exc.reason)
    except (TypeError, ValueError):
        return str(exc.reason)


def _status(pod) -> PodStatus:
    status = pod.status
    containers = []
    for cs in (status.container_statuses or []) if status else []:
        state = cs.state
        if state and state.terminated:
            t = state.terminated
            containers.append(
                ContainerState(
                    cs.name, "terminated", t.exit_code, t.reason or "", t.message or ""
                )
            )
        elif state and state.waiting:
            w = state.waiting
            containers.append(
                ContainerState(
                    cs.name, "waiting", None, w.reason or "", w.message or ""
                )
            )
        else:
            containers.append(ContainerState(cs.name, "running"))
    labels = pod.metadata.labels or {}
    return PodStatus(
        exists=True,
        phase=(status.phase if status else "") or "Pending",
        start_time=status.start_time if status else None,
        deleting=pod.metadata.deletion_timestamp is not None,
        reason=(status.reason if status else "") or "",
        message=(status.message if status else "") or "",
        containers=tuple(containers),
        build_id=labels.get(BUILD_ID_LABEL, ""),
    )


def _summary(pod) -> PodSummary:
    finished = None
    for cs in (pod.status.container_statuses or []) if pod.status else []:
        if cs.state and cs.state.terminated and cs.state.terminated.finished_at:
            at = cs.state.terminated.finished_at
            finished = at if finished is None or at > finished else finished
    return PodSummary(
        name=pod.metadata.name,
        namespace=pod.metadata.namespace,
        labels=pod.metadata.labels or {},
        phase=(pod.status.phase if pod.status else "") or "",
        created=pod.metadata.creation_timestamp,
        finished=finished,
    )


_apis: dict[tuple, client.CoreV1Api] = {}
_lock = threading.Lock()


def known_clusters(kubeconfig: str) -> set[str]:
    if not kubeconfig:
        return {"default"} if in_cluster() else set()
    contexts, _ = config.list_kube_config_contexts(config_file=kubeconfig)
    return {"default", *(c["name"] for c in contexts)}


def kubernetes_executor(kubeconfig: str, cluster: str) -> KubernetesExecutor:
    """The executor for a build cluster; an unknown alias is a terminal error
    for the job, as in the original."""
    key = (kubeconfig, cluster)
    with _lock:
        api = _apis.get(key)
        if api is None:
            api = _connect(kubeconfig, cluster)
            _apis[key] = api
    return KubernetesExecutor(api, cluster)


def _connect(kubeconfig: str, cluster: str) -> client.CoreV1Api:
    if not kubeconfig:
        if cluster != "default":
            raise ExecutorError(f"unknown cluster alias {cluster!r}")
        configuration = client.Configuration()
        config.load_incluster_config(client_configuration=configuration)
        return client.CoreV1Api(client.ApiClient(configuration))
    if cluster not in known_clusters(kubeconfig):
        raise ExecutorError(f"unknown cluster alias {cluster!r}")
    context = None if cluster == "default" else cluster
    api_client = config.new_client_from_config(config_file=kubeconfig, context=context)
    return client.CoreV1Api(api_client)


def forget_connections() -> None:
    with _lock:
        _apis.clear()
