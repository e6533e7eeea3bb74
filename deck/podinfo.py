"""Where a job ran and how its pod ended, for the job page.

The local executor runs a pod's commands on the Prow host itself: it uses
no image and isolates nothing, so its runs must not read as Kubernetes
runs.
"""

import json
import logging

from jobs.executors import cluster_configured
from jobs.logs import artifact_text
from jobs.models import JobArtifact, ProwJob
from jobs.plank import POD_INFO

logger = logging.getLogger(__name__)

# What /prowjobs.js adds to a job the local executor ran: the original's
# shape has no way to say so, and its agent, cluster, pod name and image
# would otherwise read as a pod on a cluster.
LOCAL_RUN_ANNOTATIONS = {
    "prow.k8s.io/executor": "local",
    "prow.k8s.io/executor-note": (
        "ran as processes on the Prow host: no pod, no cluster, no isolation; "
        "the image was not used"
    ),
}


def pod_info(artifacts: list[JobArtifact]) -> dict:
    """What plank kept of the ended pod (podinfo.json); {} before it ends."""
    item = next((a for a in artifacts if a.name == POD_INFO), None)
    if item is None:
        return {}
    try:
        info = json.loads(artifact_text(item))
    except (OSError, ValueError) as exc:
        logger.info("pod info of job %s not read: %s", item.job_id, exc)
        return {}
    return info if isinstance(info, dict) else {}


def ran_locally(job: ProwJob, info: dict) -> bool:
    if info.get("executor"):
        return info["executor"] == "local"
    # Still running, or ended before pod info was kept: plank chose the
    # executor the same way.
    return bool(job.pod_name) and not cluster_configured()
