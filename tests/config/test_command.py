"""prow_config: validate (usable in a config repository's CI), import, export."""

import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from prow.config.models import ConfigVersion
from tests.conftest import EXAMPLES, ROOT

BAD = """\
presubmits:
  org/repo:
  - name: unit
    spec: {containers: [{image: a}]}
  - name: unit
    run_if_changed: "docs/(("
    spec: {containers: [{image: a}]}
"""


def run_validate(*args):
    return subprocess.run(
        [sys.executable, "manage.py", "prow_config", "validate", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_examples_validate_with_exit_0():
    done = run_validate(EXAMPLES / "config.yaml", EXAMPLES / "plugins.yaml")
    assert done.returncode == 0, done.stderr
    assert "valid (1 presubmits, 0 postsubmits, 1 periodics" in done.stdout
    assert "warning: config.yaml:17: prowjob_namespace" in done.stderr


def test_duplicate_job_and_bad_regex_exit_1_with_both_errors(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text(BAD)
    done = run_validate(bad)
    assert done.returncode == 1
    assert (
        'error: config.yaml:5: presubmits["org/repo"][1].name: duplicated presubmit '
        "job 'unit'" in done.stderr
    )
    assert (
        'error: config.yaml:6: presubmits["org/repo"][1].run_if_changed: could not '
        "compile run_if_changed regex 'docs/(('" in done.stderr
    )
    assert "2 error(s)" in done.stderr


def test_files_are_told_apart_by_content(tmp_path):
    # A plugins file with a config-like name is still read as plugins.
    odd = tmp_path / "settings.yaml"
    odd.write_text("plugins:\n  org: [not-a-plugin]\n")
    with pytest.raises(CommandError) as raised:
        call_command("prow_config", "validate", str(odd), stderr=StringIO())
    assert raised.value.returncode == 1


def test_strict_turns_warnings_into_failure():
    with pytest.raises(CommandError):
        call_command(
            "prow_config",
            "validate",
            "--strict",
            str(EXAMPLES / "plugins.yaml"),
            stderr=StringIO(),
        )


@pytest.mark.django_db
def test_import_then_export_round_trips(tmp_path):
    out = StringIO()
    call_command(
        "prow_config",
        "import",
        str(EXAMPLES / "config.yaml"),
        str(EXAMPLES / "plugins.yaml"),
        "--comment",
        "first",
        stdout=out,
    )
    version = ConfigVersion.objects.get()
    assert version.source == ConfigVersion.Source.COMMAND
    assert version.comment == "first"
    assert f"imported as version {version.pk}" in out.getvalue()
    config_out, plugins_out = tmp_path / "c.yaml", tmp_path / "p.yaml"
    call_command(
        "prow_config",
        "export",
        "--config",
        str(config_out),
        "--plugins",
        str(plugins_out),
        stderr=StringIO(),
    )
    assert config_out.read_text() == (EXAMPLES / "config.yaml").read_text()
    assert plugins_out.read_text() == (EXAMPLES / "plugins.yaml").read_text()


@pytest.mark.django_db
def test_import_of_an_invalid_config_stores_nothing(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text(BAD)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("prow_config", "import", "--config", str(bad), stderr=err)
    assert "could not compile run_if_changed regex" in err.getvalue()
    assert ConfigVersion.objects.count() == 0


def test_validate_names_the_path_given(tmp_path):
    bad = tmp_path / "prow" / "config.yaml"
    bad.parent.mkdir()
    bad.write_text(BAD)
    done = run_validate(bad)
    assert done.returncode == 1
    (line,) = [x for x in done.stderr.splitlines() if "duplicated presubmit" in x]
    assert line.startswith("error: config.yaml:5: ")
    assert line.endswith(f" (at {bad}:5)")


@pytest.mark.django_db
def test_sync_says_which_and_fails_on_bad_files(tmp_path, settings):
    config, plugins = tmp_path / "config.yaml", tmp_path / "plugins.yaml"
    config.write_text("periodics: []\n")
    plugins.write_text("")
    settings.PROW_CONFIG_PATH, settings.PROW_PLUGIN_CONFIG_PATH = config, plugins
    out = StringIO()
    call_command("prow_config", "sync", stdout=out)
    version = ConfigVersion.objects.get()
    assert out.getvalue().strip() == f"loaded the config files as version {version.pk}"
    out = StringIO()
    call_command("prow_config", "sync", stdout=out)
    assert (
        out.getvalue().strip() == f"config files unchanged; active version {version.pk}"
    )

    config.write_text(BAD)
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("prow_config", "sync", stdout=StringIO(), stderr=err)
    assert raised.value.returncode == 1
    assert str(raised.value) == (
        f"config files invalid, not loaded; active version {version.pk}"
    )
    (line,) = [x for x in err.getvalue().splitlines() if "duplicated presubmit" in x]
    assert line.endswith(f" (at {config}:5)")
    assert ConfigVersion.objects.count() == 1
