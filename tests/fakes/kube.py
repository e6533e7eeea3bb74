"""In-process fake of the Kubernetes core/v1 Pod API.

Tests point the real ``kubernetes`` client at it through a kubeconfig the fake
writes, so the code under test goes through genuine HTTP, (de)serialisation and
``ApiException`` handling, while the test plays the kubelet with plain methods::

    with FakeKube(namespaces=["test-pods"]) as kube:
        kube.write_kubeconfig(path, contexts={"default": "test-pods"})
        api = client.CoreV1Api(config.new_client_from_config(str(path)))
        api.create_namespaced_pod("test-pods", pod)
        kube.fail("test-pods", pod.metadata.name, exit_code=2)

What it keeps of the API server: pods live in namespaces that must exist to
create into; names, containers and labels are validated (422 Invalid) as the
server does, and with ``schema_version`` set (the default) every created pod
must also pass the strict OpenAPI schema via ``kubernetes-validate``, so a
typo'd field fails here instead of being silently dropped; errors are
``Status`` objects; a container that has not started has no log (400). Each
kubeconfig context gets its own token, so the request log tells which context
(build cluster) a request came through.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from tests.fakes.server import FakeServer

KUBERNETES_VERSION = "1.30"
PHASES = frozenset({"Pending", "Running", "Succeeded", "Failed", "Unknown"})
# set_phase() routes its ``reason`` by these: the kubelet and eviction manager
# put the first set on the pod, the rest on a container's waiting/terminated
# state (which, when not given, the reason also implies).
POD_REASONS = frozenset(
    {
        "Evicted",
        "DeadlineExceeded",
        "NodeLost",
        "NodeAffinity",
        "Shutdown",
        "Terminated",
        "UnexpectedAdmissionError",
        "OutOfcpu",
        "OutOfmemory",
        "Preempting",
    }
)
WAITING_REASONS = frozenset(
    {
        "ContainerCreating",
        "PodInitializing",
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "CrashLoopBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)
TERMINATED_REASONS = frozenset(
    {
        "Completed",
        "Error",
        "OOMKilled",
        "ContainerCannotRun",
        "StartError",
        "ContainerStatusUnknown",
    }
)
STATUS_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
# One requirement of a label selector: k=v, k==v, k!=v, k, !k, k in/notin (a,b).
_KEY = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_REQUIREMENT = re.compile(
    rf"\s*(?:!\s*(?P<absent>{_KEY})"
    rf"|(?P<key>{_KEY})(?:\s*(?P<op>==|!=|=)\s*(?P<value>[-A-Za-z0-9_.]*)"
    rf"|\s+(?P<set>in|notin)\s*\((?P<values>[^()]*)\))?)\s*"
)
_OUTSIDE_PARENS_COMMA = re.compile(r",(?![^()]*\))")
_DNS_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*")
_QUALIFIED = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY = re.compile(rf"(?:{_DNS_SUBDOMAIN.pattern}/)?{_QUALIFIED}")
_LABEL_VALUE = re.compile(rf"(?:{_QUALIFIED})?")


def _now(offset: float = 0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def _path_matches(wanted: str | re.Pattern[str], path: str) -> bool:
    if isinstance(wanted, re.Pattern):
        return wanted.search(path) is not None
    return wanted == path


# --------------------------------------------------------------------------- state


@dataclass
class RecordedRequest:
    """One request as received; header names are lower-cased, path is decoded.

    ``namespace`` comes from the path (None for cluster-wide calls) and
    ``context`` from the bearer token the kubeconfig gave that context.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int | None = None
    namespace: str | None = None
    context: str | None = None


@dataclass
class Fault:
    method: str | None
    path: re.Pattern[str]
    status: int
    times: int
    reason: str
    message: str

    def matches(self, request: RecordedRequest) -> bool:
        method_matches = self.method in (None, request.method)
        return method_matches and self.path.search(request.path) is not None


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    payload: bytes = b""


class ApiError(Exception):
    """Raised by handlers to answer with a ``Status`` object."""

    def __init__(
        self, status: int, message: str, reason: str | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.reason = reason or STATUS_REASONS.get(status, "Unknown")
        self.details = details


def _status(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def _not_found(kind: str, name: str) -> ApiError:
    return ApiError(404, f'{kind} "{name}" not found', name=name, kind=kind)


# -------------------------------------------------------------------------- router

_ROUTES: list[tuple[str, re.Pattern[str], Callable[..., Any]]] = []


def route(method: str, template: str) -> Callable[[Callable], Callable]:
    """Register a handler for a template such as ``/api/v1/namespaces/{namespace}``."""
    pattern = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template))

    def register(handler: Callable) -> Callable:
        _ROUTES.append((method, pattern, handler))
        return handler

    return register


# ---------------------------------------------------------------------------- fake


class FakeKube(FakeServer):
    """A thread-safe, in-memory API server for pods, over local HTTP."""

    thread_name = "fake-kube"

    def __init__(
        self,
        namespaces: Iterable[str] = ("default",),
        graceful: bool = False,
        require_auth: bool = True,
        schema_version: str | None = KUBERNETES_VERSION,
    ) -> None:
        # In graceful mode DELETE only marks a pod until finish_deletion(), as a
        # kubelet takes terminationGracePeriodSeconds to stop the containers.
        self.graceful = graceful
        self.require_auth = require_auth
        self.schema_version = schema_version
        self._lock = threading.RLock()
        self._versions = itertools.count(1)
        self._namespaces: dict[str, dict[str, Any]] = {}
        self._pods: dict[tuple[str, str], dict[str, Any]] = {}
        self._logs: dict[tuple[str, str, str], str] = {}
        self._tokens: dict[str, str] = {}
        self._log: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        for namespace in namespaces:
            self.add_namespace(namespace)

    # ------------------------------------------------------------ client config

    def token(self, context: str) -> str:
        """The bearer token the kubeconfig gives ``context``."""
        token = f"fake-token-{context}"
        with self._lock:
            self._tokens[token] = context
        return token

    def write_kubeconfig(
        self,
        path: str | Path,
        contexts: Mapping[str, str | None] | Iterable[str | tuple[str, str]] = (
            "default",
        ),
        current: str | None = None,
    ) -> Path:
        """Write a kubeconfig with one cluster, user and context per context.

        ``contexts`` are names, ``(name, namespace)`` pairs or a name -> namespace
        mapping; the namespaces are created here, as a real cluster has them.
        ``current`` defaults to the first context.
        """
        if isinstance(contexts, Mapping):
            pairs = list(contexts.items())
        else:
            pairs = [(c, None) if isinstance(c, str) else tuple(c) for c in contexts]
        names = [name for name, _ in pairs]
        if current is None:
            current = names[0]
        elif current not in names:
            raise ValueError(f"current context {current!r} is not one of {names}")
        clusters, users, entries = [], [], []
        for name, namespace in pairs:
            clusters.append({"name": name, "cluster": {"server": self.url}})
            users.append({"name": name, "user": {"token": self.token(name)}})
            context = {"cluster": name, "user": name}
            if namespace:
                context["namespace"] = namespace
                self.add_namespace(namespace)
            entries.append({"name": name, "context": context})
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": clusters,
            "users": users,
            "contexts": entries,
            "current-context": current,
            "preferences": {},
        }
        path = Path(path)
        path.write_text(yaml.safe_dump(kubeconfig, sort_keys=False))
        return path

    def configuration(self, context: str = "default") -> Any:
        """A ``kubernetes.client.Configuration`` that reaches this server."""
        from kubernetes import client

        configuration = client.Configuration(host=self.url)
        configuration.api_key["BearerToken"] = f"Bearer {self.token(context)}"
        return configuration

    # ------------------------------------------------------------------- seeding

    def add_namespace(self, name: str) -> None:
        with self._lock:
            self._namespaces.setdefault(
                name,
                {
                    "kind": "Namespace",
                    "apiVersion": "v1",
                    "metadata": self._new_metadata(name, None),
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
            )

    def add_pod(self, pod: dict[str, Any], namespace: str | None = None) -> dict:
        """Store a pod as if created earlier; ValueError when the server would
        refuse it."""
        namespace = namespace or pod.get("metadata", {}).get("namespace", "default")
        with self._lock:
            try:
                return copy.deepcopy(self._create(namespace, pod))
            except ApiError as error:
                raise ValueError(error.message) from None

    # ---------------------------------------------------------------- inspection

    def pods(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """Copies of the stored pods, oldest first."""
        with self._lock:
            return [
                copy.deepcopy(pod)
                for (ns, _), pod in self._pods.items()
                if namespace in (None, ns)
            ]

    def pod(self, namespace: str, name: str) -> dict[str, Any]:
        """A copy of one stored pod; KeyError when there is none."""
        with self._lock:
            return copy.deepcopy(self._pods[(namespace, name)])

    def requests(
        self, method: str | None = None, path: str | re.Pattern[str] | None = None
    ) -> list[RecordedRequest]:
        """Recorded requests, oldest first; a ``path`` string must equal the
        decoded path, a compiled pattern is searched in it."""
        with self._lock:
            return [
                request
                for request in self._log
                if (method is None or request.method == method.upper())
                and (path is None or _path_matches(path, request.path))
            ]

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    # ------------------------------------------------------------ pod lifecycle

    def set_phase(
        self,
        namespace: str,
        name: str,
        phase: str,
        *,
        exit_codes: int | Iterable[int] | Mapping[str, int] | None = None,
        reason: str | None = None,
        message: str | None = None,
        start_time: bool = True,
        container_state: str | None = None,
    ) -> dict[str, Any]:
        """Move a pod to ``phase`` as the kubelet reports it.

        Every container gets a status whose state (``"waiting"``, ``"running"``
        or ``"terminated"``) is ``container_state``, else implied by ``reason``,
        else by the phase. ``exit_codes`` (one for all, one per container in
        order, or by container name) default to 0 when Succeeded, else 1.
        ``reason``/``message`` go on the pod when the reason is a pod-level one
        (POD_REASONS) or the containers run, else on the containers' state.
        """
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}; expected one of {PHASES}")
        state = container_state or (
            "waiting"
            if reason in WAITING_REASONS
            else "terminated"
            if reason in TERMINATED_REASONS
            else {"Pending": "waiting", "Running": "running"}.get(phase, "terminated")
        )
        if state not in ("waiting", "running", "terminated"):
            raise ValueError(f"unknown container state {state!r}")
        on_pod = reason in POD_REASONS or state == "running"
        with self._lock:
            pod = self._pods[(namespace, name)]
            containers = [c["name"] for c in pod["spec"]["containers"]]
            codes = _exit_codes(
                exit_codes, containers, 0 if phase == "Succeeded" else 1
            )
            previous = pod["status"]
            status = pod["status"] = {
                "phase": phase,
                "qosClass": previous.get("qosClass", "BestEffort"),
            }
            started = previous.get("startTime") or _now()
            if start_time:
                status["startTime"] = started
            if on_pod and reason:
                status["reason"] = reason
            if on_pod and message:
                status["message"] = message
            pod["spec"].setdefault("nodeName", "fake-node")
            status["conditions"] = _conditions(phase, state)
            status["containerStatuses"] = [
                _container_status(
                    container,
                    state,
                    started,
                    codes[container["name"]],
                    None if on_pod else reason,
                    None if on_pod else message,
                )
                for container in pod["spec"]["containers"]
            ]
            self._touch(pod)
            return copy.deepcopy(pod)

    def run(self, namespace: str, name: str) -> dict[str, Any]:
        return self.set_phase(namespace, name, "Running")

    def succeed(self, namespace: str, name: str) -> dict[str, Any]:
        return self.set_phase(namespace, name, "Succeeded", exit_codes=0)

    def fail(
        self, namespace: str, name: str, exit_code: int = 1, reason: str | None = None
    ) -> dict[str, Any]:
        return self.set_phase(
            namespace, name, "Failed", exit_codes=exit_code, reason=reason
        )

    def set_unschedulable(
        self,
        namespace: str,
        name: str,
        message: str = "0/3 nodes are available: 3 Insufficient cpu.",
    ) -> dict[str, Any]:
        """Pending with no node, as the scheduler leaves a pod that fits nowhere."""
        condition = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastTransitionTime": _now(),
        }
        with self._lock:
            pod = self._pods[(namespace, name)]
            pod["spec"].pop("nodeName", None)
            qos = pod["status"].get("qosClass", "BestEffort")
            pod["status"] = {"phase": "Pending", "qosClass": qos}
            pod["status"]["conditions"] = [condition]
            self._touch(pod)
            return copy.deepcopy(pod)

    def set_log(self, namespace: str, name: str, container: str, text: str) -> None:
        with self._lock:
            self._logs[(namespace, name, container)] = text

    def append_log(self, namespace: str, name: str, container: str, text: str) -> None:
        with self._lock:
            key = (namespace, name, container)
            self._logs[key] = self._logs.get(key, "") + text

    def remove(self, namespace: str, name: str) -> None:
        """Make a pod vanish without an API call, as when its node is lost."""
        with self._lock:
            self._drop(namespace, name)

    def finish_deletion(
        self, namespace: str | None = None, name: str | None = None
    ) -> int:
        """Remove the pods a graceful DELETE marked; returns how many went."""
        with self._lock:
            marked = [
                key
                for key, pod in self._pods.items()
                if pod["metadata"].get("deletionTimestamp")
                and namespace in (None, key[0])
                and name in (None, key[1])
            ]
            for key in marked:
                self._drop(*key)
            return len(marked)

    # -------------------------------------------------------------------- faults

    def fail_next(
        self,
        method: str | None,
        path_regex: str,
        status: int = 500,
        times: int = 1,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with a ``Status`` error.

        ``method`` None matches any; ``path_regex`` is searched in the decoded
        path. Faults apply before routing, so they hit any path.
        """
        reason = reason or STATUS_REASONS.get(status, "InternalError")
        fault = Fault(
            method.upper() if method else None,
            re.compile(path_regex),
            status,
            times,
            reason,
            message or f"injected fault: {reason}",
        )
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # ------------------------------------------------------------- request cycle

    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> Reply:
        """Record and answer one HTTP request; called from the server threads."""
        split = urlsplit(target)
        try:
            body, valid_json = (json.loads(raw) if raw else None), True
        except ValueError:
            body, valid_json = raw.decode(errors="replace"), False
        path = unquote(split.path)
        namespace = re.match(r"/api/v1/namespaces/([^/]+)", path)
        request = RecordedRequest(
            method=method,
            path=path,
            query={key: values[-1] for key, values in parse_qs(split.query).items()},
            headers={name.lower(): value for name, value in headers.items()},
            body=body,
            namespace=namespace.group(1) if namespace else None,
        )
        with self._lock:
            self._log.append(request)
            reply = self._respond(request, valid_json)
            request.status = reply.status
            # Handlers return live state, so it is encoded before the lock goes.
            if reply.text is not None:
                reply.payload = reply.text.encode()
                reply.headers["Content-Type"] = "text/plain; charset=utf-8"
            else:
                reply.payload = json.dumps(reply.body).encode()
                reply.headers["Content-Type"] = "application/json"
        return reply

    def _respond(self, request: RecordedRequest, valid_json: bool) -> Reply:
        try:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            request.context = self._tokens.get(token)
            if self.require_auth and (scheme.lower() != "bearer" or not token):
                raise ApiError(401, "Unauthorized")
            fault = next((f for f in self._faults if f.matches(request)), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                raise ApiError(fault.status, fault.message, fault.reason)
            if not valid_json:
                raise ApiError(400, "the request body is not valid JSON")
            return self._dispatch(request)
        except ApiError as error:
            body = _status(error.status, error.reason, error.message, error.details)
            return Reply(error.status, body)
        except Exception as error:
            # A bug in the fake reaches the test as a readable 500, not a hung socket.
            message = f"FakeKube handler failed: {error!r}"
            return Reply(500, _status(500, "InternalError", message))

    def _dispatch(self, request: RecordedRequest) -> Reply:
        path = request.path.rstrip("/") or "/"
        for method, pattern, handler in _ROUTES:
            match = pattern.fullmatch(path)
            if match is not None and method == request.method:
                result = handler(self, request, **match.groupdict())
                return result if isinstance(result, Reply) else Reply(body=result)
        raise ApiError(404, "the server could not find the requested resource")

    # ------------------------------------------------------------- state helpers

    def _new_metadata(self, name: str, namespace: str | None) -> dict[str, Any]:
        metadata = {"name": name}
        if namespace is not None:
            metadata["namespace"] = namespace
        metadata["uid"] = str(uuid.uuid4())
        metadata["resourceVersion"] = str(next(self._versions))
        metadata["creationTimestamp"] = _now()
        return metadata

    def _touch(self, pod: dict[str, Any]) -> None:
        pod["metadata"]["resourceVersion"] = str(next(self._versions))

    def _drop(self, namespace: str, name: str) -> dict[str, Any]:
        pod = self._pods.pop((namespace, name))
        for key in [key for key in self._logs if key[:2] == (namespace, name)]:
            del self._logs[key]
        return pod

    def _stored(self, namespace: str, name: str) -> dict[str, Any]:
        pod = self._pods.get((namespace, name))
        if pod is None:
            raise _not_found("pods", name)
        return pod

    def _create(self, namespace: str, body: Any) -> dict[str, Any]:
        if namespace not in self._namespaces:
            raise _not_found("namespaces", namespace)
        if not isinstance(body, dict):
            raise ApiError(400, "the request body must be a Pod object")
        pod = copy.deepcopy(body)
        pod.setdefault("apiVersion", "v1")
        pod.setdefault("kind", "Pod")
        metadata = pod.setdefault("metadata", {})
        if metadata.get("namespace", namespace) != namespace:
            raise ApiError(
                400,
                "the namespace of the provided object does not match the "
                "namespace sent on the request",
            )
        if not metadata.get("name") and metadata.get("generateName"):
            suffix = hashlib.sha1(uuid.uuid4().bytes).hexdigest()[:5]
            metadata["name"] = metadata["generateName"] + suffix
        name = metadata.get("name") or ""
        _check_pod(pod, name)
        if self.schema_version:
            _check_schema(pod, name, self.schema_version)
        if (namespace, name) in self._pods:
            message = f'pods "{name}" already exists'
            raise ApiError(409, message, "AlreadyExists", name=name, kind="pods")
        pod["metadata"] = {**metadata, **self._new_metadata(name, namespace)}
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds"):
            pod["metadata"].pop(key, None)
        pod["spec"].setdefault("restartPolicy", "Always")
        pod["spec"].setdefault("terminationGracePeriodSeconds", 30)
        # Status is the kubelet's to write; the server drops a submitted one.
        pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        self._pods[(namespace, name)] = pod
        return pod

    # ================================================================= handlers

    @route("GET", "/version")
    def _version(self, req: RecordedRequest) -> Any:
        major, minor = KUBERNETES_VERSION.split(".")
        return {
            "major": major,
            "minor": minor,
            "gitVersion": f"v{KUBERNETES_VERSION}.0",
            "gitCommit": "0" * 40,
            "gitTreeState": "clean",
            "buildDate": "2024-04-17T00:00:00Z",
            "goVersion": "go1.22.2",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    @route("GET", "/api/v1/namespaces/{namespace}")
    def _get_namespace(self, req: RecordedRequest, namespace: str) -> Any:
        if namespace not in self._namespaces:
            raise _not_found("namespaces", namespace)
        return self._namespaces[namespace]

    @route("GET", "/api/v1/pods")
    def _list_all_pods(self, req: RecordedRequest) -> Any:
        return self._pod_list(req, None)

    @route("GET", "/api/v1/namespaces/{namespace}/pods")
    def _list_pods(self, req: RecordedRequest, namespace: str) -> Any:
        return self._pod_list(req, namespace)

    def _pod_list(self, req: RecordedRequest, namespace: str | None) -> Any:
        if req.query.get("fieldSelector"):
            # Answering with every pod would hide the gap; say so instead.
            raise ApiError(400, "FakeKube does not support fieldSelector")
        labels = _label_selector(req.query.get("labelSelector", ""))
        items = [
            {k: v for k, v in pod.items() if k not in ("kind", "apiVersion")}
            for (ns, _), pod in self._pods.items()
            if namespace in (None, ns) and labels(pod["metadata"].get("labels") or {})
        ]
        return {
            "kind": "PodList",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": str(next(self._versions))},
            "items": items,
        }

    @route("POST", "/api/v1/namespaces/{namespace}/pods")
    def _create_pod(self, req: RecordedRequest, namespace: str) -> Any:
        return Reply(201, self._create(namespace, req.body))

    @route("GET", "/api/v1/namespaces/{namespace}/pods/{name}")
    def _get_pod(self, req: RecordedRequest, namespace: str, name: str) -> Any:
        return self._stored(namespace, name)

    @route("DELETE", "/api/v1/namespaces/{namespace}/pods/{name}")
    def _delete_pod(self, req: RecordedRequest, namespace: str, name: str) -> Any:
        pod = self._stored(namespace, name)
        options = req.body if isinstance(req.body, dict) else {}
        grace = options.get("gracePeriodSeconds", req.query.get("gracePeriodSeconds"))
        if grace is None:
            grace = pod["spec"]["terminationGracePeriodSeconds"]
        if not self.graceful or int(grace) == 0:
            return self._drop(namespace, name)
        metadata = pod["metadata"]
        if "deletionTimestamp" not in metadata:
            metadata["deletionTimestamp"] = _now(int(grace))
            metadata["deletionGracePeriodSeconds"] = int(grace)
            self._touch(pod)
        return pod

    @route("GET", "/api/v1/namespaces/{namespace}/pods/{name}/log")
    def _pod_log(self, req: RecordedRequest, namespace: str, name: str) -> Any:
        pod = self._stored(namespace, name)
        names = [c["name"] for c in pod["spec"]["containers"]]
        container = req.query.get("container")
        if container is None and len(names) == 1:
            container = names[0]
        if container is None:
            raise ApiError(
                400,
                f"a container name must be specified for pod {name}, "
                f"choose one of: [{' '.join(names)}]",
            )
        if container not in names:
            raise ApiError(400, f"container {container} is not valid for pod {name}")
        text = self._logs.get((namespace, name, container))
        if text is None:
            statuses = pod["status"].get("containerStatuses") or []
            state = next(
                (s["state"] for s in statuses if s["name"] == container),
                {"waiting": {"reason": "ContainerCreating"}},
            )
            if "waiting" in state:
                reason = state["waiting"].get("reason", "ContainerCreating")
                raise ApiError(
                    400,
                    f'container "{container}" in pod "{name}" is waiting to '
                    f"start: {reason}",
                )
            text = ""
        tail = _int_query(req, "tailLines")
        if tail is not None:
            text = "".join(text.splitlines(keepends=True)[-tail:] if tail else [])
        limit = _int_query(req, "limitBytes")
        if limit is not None:
            text = text.encode()[:limit].decode(errors="ignore")
        return Reply(text=text)


# ----------------------------------------------------------------- module helpers


def _int_query(req: RecordedRequest, name: str) -> int | None:
    value = req.query.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise ApiError(400, f"{name}: Invalid value: {value!r}: must be >= 0")
    return int(value)


def _check_pod(pod: dict[str, Any], name: str) -> None:
    """Refuse, as the API server's validation does, what it would refuse."""
    errors: list[tuple[str, str, str]] = []

    def invalid(path: str, value: Any, why: str) -> None:
        shown = json.dumps(value)
        errors.append(("FieldValueInvalid", path, f"Invalid value: {shown}: {why}"))

    if not name:
        message = "Required value: name or generateName is required"
        errors.append(("FieldValueRequired", "metadata.name", message))
    elif len(name) > 253 or not _DNS_SUBDOMAIN.fullmatch(name):
        invalid("metadata.name", name, "a lowercase RFC 1123 subdomain is required")
    for key, value in (pod["metadata"].get("labels") or {}).items():
        path = f"metadata.labels[{key}]"
        if not _LABEL_KEY.fullmatch(key) or len(key.rsplit("/", 1)[-1]) > 63:
            invalid("metadata.labels", key, "name part must be a qualified name")
        if not isinstance(value, str) or not _LABEL_VALUE.fullmatch(value):
            invalid(path, value, "a valid label value is required")
        elif len(value) > 63:
            invalid(path, value, "must be no more than 63 characters")
    spec = pod.get("spec")
    containers = spec.get("containers") if isinstance(spec, dict) else None
    if not containers:
        errors.append(("FieldValueRequired", "spec.containers", "Required value"))
    seen: set[str] = set()
    for index, container in enumerate(containers or []):
        path = f"spec.containers[{index}]"
        cname = container.get("name")
        if not cname:
            errors.append(("FieldValueRequired", f"{path}.name", "Required value"))
        elif len(cname) > 63 or not re.fullmatch(_DNS_LABEL, cname):
            invalid(f"{path}.name", cname, "a lowercase RFC 1123 label is required")
        elif cname in seen:
            errors.append(
                ("FieldValueDuplicate", f"{path}.name", f'Duplicate value: "{cname}"')
            )
        seen.add(cname)
        if not container.get("image"):
            errors.append(("FieldValueRequired", f"{path}.image", "Required value"))
    if errors:
        _raise_invalid(name, errors)


def _check_schema(pod: dict[str, Any], name: str, version: str) -> None:
    import kubernetes_validate  # a dev dependency; only tests build a FakeKube

    try:
        kubernetes_validate.validate(pod, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}"
            for part in error.absolute_path
        )
        path = path.lstrip(".") or "<root>"
        _raise_invalid(name, [("FieldValueInvalid", path, error.message)])


def _raise_invalid(name: str, errors: list[tuple[str, str, str]]) -> None:
    causes = [
        {"reason": reason, "message": message, "field": path}
        for reason, path, message in errors
    ]
    texts = [f"{path}: {message}" for _, path, message in errors]
    joined = texts[0] if len(texts) == 1 else f"[{', '.join(texts)}]"
    raise ApiError(
        422,
        f'Pod "{name}" is invalid: {joined}',
        name=name,
        kind="Pod",
        causes=causes,
    )


def _label_selector(text: str) -> Callable[[dict[str, str]], bool]:
    tests = []
    for part in _OUTSIDE_PARENS_COMMA.split(text) if text.strip() else []:
        match = _REQUIREMENT.fullmatch(part)
        if match is None:
            raise ApiError(400, f"unable to parse requirement: {part.strip()!r}")
        tests.append(_requirement(match))
    return lambda labels: all(test(labels) for test in tests)


def _requirement(match: re.Match[str]) -> Callable[[dict[str, str]], bool]:
    if match["absent"]:
        return lambda labels, key=match["absent"]: key not in labels
    key = match["key"]
    if match["op"]:
        value, equal = match["value"], match["op"] != "!="
        # != and notin also match objects without the label, as in Kubernetes.
        return lambda labels: (labels.get(key) == value) == equal
    if match["set"]:
        values = {value.strip() for value in match["values"].split(",")}
        if match["set"] == "in":
            return lambda labels: key in labels and labels[key] in values
        return lambda labels: labels.get(key) not in values
    return lambda labels: key in labels


def _exit_codes(
    codes: int | Iterable[int] | Mapping[str, int] | None,
    containers: list[str],
    default: int,
) -> dict[str, int]:
    if codes is None:
        return dict.fromkeys(containers, default)
    if isinstance(codes, int):
        return dict.fromkeys(containers, codes)
    if isinstance(codes, Mapping):
        return {name: codes.get(name, default) for name in containers}
    codes = list(codes)
    if len(codes) != len(containers):
        raise ValueError(f"{len(codes)} exit codes for containers {containers}")
    return dict(zip(containers, codes, strict=True))


def _container_status(
    container: dict[str, Any],
    state: str,
    started: str,
    exit_code: int,
    reason: str | None,
    message: str | None,
) -> dict[str, Any]:
    image = container["image"]
    digest = hashlib.sha256(image.encode()).hexdigest()
    container_id = f"containerd://{digest[:32]}{container['name']}"
    detail: dict[str, Any] = {}
    if state == "waiting":
        detail["reason"] = reason or "ContainerCreating"
    elif state == "running":
        detail["startedAt"] = started
    else:
        detail["exitCode"] = exit_code
        detail["reason"] = reason or ("Completed" if exit_code == 0 else "Error")
        detail.update(startedAt=started, finishedAt=_now(), containerID=container_id)
    if message and state != "running":
        detail["message"] = message
    status = {
        "name": container["name"],
        "image": image,
        # The runtime reports an image ID only once the image is pulled.
        "imageID": "" if state == "waiting" else f"{image}@sha256:{digest}",
        "ready": state == "running",
        "started": state == "running",
        "restartCount": 0,
        "state": {state: detail},
    }
    if state != "waiting":
        status["containerID"] = container_id
    return status


def _conditions(phase: str, state: str) -> list[dict[str, Any]]:
    now = _now()
    ready = "True" if state == "running" else "False"
    conditions = [("PodScheduled", "True"), ("Initialized", "True")]
    conditions += [("ContainersReady", ready), ("Ready", ready)]
    out = []
    for kind, value in conditions:
        condition = {"type": kind, "status": value, "lastTransitionTime": now}
        if value == "False":
            done = phase in ("Succeeded", "Failed")
            condition["reason"] = "PodCompleted" if done else "ContainersNotReady"
        out.append(condition)
    return out
