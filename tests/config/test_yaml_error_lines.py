"""A YAML syntax error is reported at the line to edit: where the bracket,
quote or key left open starts, not where PyYAML gave up, in every way a
config is checked."""

from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from prow.config import yamlsource
from prow.config.models import ConfigVersion
from prow.config.validation import validate

# Line 14 opens a flow list that is never closed; the two lines after it
# were turned into a block list by hand, and PyYAML only gives up on line 17.
UNCLOSED = """\
presubmits:
  acme/app:
  - name: unit
    always_run: true
    spec:
      containers:
      - image: golang:1.22
        command: [make, test]
  - name: lint
    run_if_changed: '\\.go$'
    spec:
      containers:
      - image: golang:1.22
        command: [make, lint
        - --fix
        - --verbose
        env: []
"""
OPENED = (
    "invalid YAML: '[' opened here is not closed (the parser gave up at line 17: "
    "expected ',' or ']', but got ':')"
)


def numbered(*lines: str, at: int) -> str:
    """lines, starting on line at (comments before)."""
    return "".join(f"# {n}\n" for n in range(1, at)) + "".join(
        f"{line}\n" for line in lines
    )


def test_pyyaml_alone_names_the_line_it_gave_up_on():
    # What the fix works around: the bare problem mark is three lines late.
    with pytest.raises(yaml.MarkedYAMLError) as caught:
        yaml.safe_load(UNCLOSED)
    assert caught.value.problem_mark.line + 1 == 17
    assert caught.value.context_mark.line + 1 == 14


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param(UNCLOSED, 14, OPENED, id="unclosed-flow-list"),
        pytest.param(
            numbered("foo: [a, b", "  c", "  d", "bar: 1", at=14),
            14,
            "'[' opened here is not closed (the parser gave up at line 17",
            id="unclosed-list-after-continuations",
        ),
        pytest.param(
            numbered("spec: {containers: [{image: a}]", "x: 1", at=3),
            3,
            "'{' opened here is not closed (the parser gave up at line 4",
            id="unclosed-flow-map",
        ),
        pytest.param(
            numbered("args: [a,", "- b", "x: 1", at=5),
            5,
            "'[' opened here is not closed (the parser gave up at line 6: "
            "expected the node content, but found '-')",
            id="missing-item-in-open-list",
        ),
        pytest.param(
            numbered("a: 'never closed", "b: 1", "c: 2", at=2),
            2,
            "the quote (') opened here is not closed (the parser gave up at line 5",
            id="unclosed-quote",
        ),
        pytest.param(
            numbered("a: 1", "b", "c: 2", at=7),
            8,
            "this key has no ':' after it (the parser gave up at line 9",
            id="key-without-colon",
        ),
        pytest.param(
            numbered("a: {x: [1, 2}", at=4),
            4,
            "'[' opened here is not closed (expected ',' or ']', but got '}')",
            id="same-line-says-no-other-line",
        ),
        pytest.param(
            # Bad indentation is found where it is: that line stays.
            numbered("a:", "  b: 1", " c: 2", at=10),
            12,
            "(while parsing a block mapping)",
            id="indentation-keeps-the-problem-line",
        ),
    ],
)
def test_syntax_error_points_at_the_line_to_edit(text, line, message):
    with pytest.raises(yamlsource.YAMLSyntaxError) as caught:
        yamlsource.parse(text)
    assert caught.value.line == line
    assert message in caught.value.message


def test_validate_reports_the_opening_line():
    # validate() is behind the files, the watcher, config_updater and startup.
    result = validate(UNCLOSED, "")
    assert [(e.file, e.line, e.path, e.message) for e in result.errors] == [
        ("config.yaml", 14, "(top level)", OPENED)
    ]


def test_command_reports_the_opening_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(UNCLOSED)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("prow_config", "validate", str(path), stderr=err)
    assert f"(at {path}:14)" in err.getvalue()
    assert f"error: config.yaml:14: (top level): {OPENED}" in err.getvalue()


@pytest.mark.django_db
def test_api_reports_the_opening_line(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    response = client.post(
        "/api/v1/config/validate/",
        {"config_yaml": UNCLOSED, "plugins_yaml": ""},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert [(e["line"], e["message"]) for e in body["errors"]] == [(14, OPENED)]


@pytest.mark.django_db
def test_admin_reports_the_opening_line_and_marks_it(admin_client):
    response = admin_client.post(
        reverse("admin:config_configversion_add"),
        {"config_yaml": UNCLOSED.replace("\n", "\r\n"), "plugins_yaml": ""},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["config_yaml"] == [f"config.yaml line 14: (top level): {OPENED}"]
    # The editor highlights the line from this attribute.
    assert 'data-error-lines="14"' in response.content.decode()
    assert not ConfigVersion.objects.exists()
