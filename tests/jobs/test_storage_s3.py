"""Logs kept in an S3-compatible bucket instead of local files (moto serves
the S3 API over HTTP here)."""

import boto3
import pytest
from moto.server import ThreadedMotoServer

from jobs.logs import artifact_store, artifact_text
from tests.factories import ProwJobFactory
from tests.processes import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket(settings, monkeypatch):
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="prow-logs")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "prow-logs",
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "file_overwrite": True,
            },
        },
    }
    yield s3
    server.stop()


def test_logs_go_to_the_bucket_and_come_back(bucket, client):
    job = ProwJobFactory(periodic=True, job="nightly")
    artifact_store(job, "build-log.txt", "first\n", limit=1000, complete=False)
    artifact = artifact_store(
        job, "build-log.txt", "first\nsecond\n", limit=1000, complete=True
    )
    key = f"prowjobs/{job.name}/build-log.txt"
    stored = bucket.get_object(Bucket="prow-logs", Key=key)["Body"].read()
    assert stored == b"first\nsecond\n"
    assert artifact_text(artifact) == "first\nsecond\n"
    assert "second" in client.get(f"/view/{job.name}").content.decode()
