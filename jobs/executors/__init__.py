"""Choosing where a job's pod runs."""

from django.conf import settings

from jobs.executors.base import Executor
from jobs.executors.kubernetes import in_cluster, kubernetes_executor
from jobs.executors.local import LocalExecutor


def cluster_configured() -> bool:
    return bool(settings.KUBECONFIG) or in_cluster()


def executor_for(cluster: str) -> Executor:
    """Kubernetes when a cluster is configured (never the local executor
    then); otherwise local processes. Raises ExecutorError (permanent) for a
    cluster alias that is not configured."""
    if cluster_configured():
        return kubernetes_executor(settings.KUBECONFIG, cluster)
    return LocalExecutor(
        settings.DATA_DIR / "local-pods",
        allow_pull_requests=settings.PROW_LOCAL_EXECUTOR_ALLOW_PULL_REQUESTS,
        allow_in_repo_jobs=settings.PROW_LOCAL_EXECUTOR_ALLOW_IN_REPO_JOBS,
    )
