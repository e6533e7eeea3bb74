"""Validation: every error names its file, line and path, and says what is wrong."""

import textwrap

import pytest

from prow.config.validation import render_path, validate

GOOD_JOB = """\
      spec:
        containers:
        - image: alpine
"""


def config_with(snippet: str) -> str:
    return textwrap.dedent(snippet)


def only_error(config: str = "", plugins: str = ""):
    result = validate(config, plugins)
    assert not result.ok, "expected the config to be refused"
    return result.errors


CASES = [
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: unit
            spec: {containers: [{image: a}]}
          - name: unit
            spec: {containers: [{image: a}]}
        """,
        5,
        'presubmits["org/repo"][1].name',
        "duplicated presubmit job 'unit'",
        id="duplicate-presubmit",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: unit
            run_if_changed: "src/(("
            spec: {containers: [{image: a}]}
        """,
        4,
        'presubmits["org/repo"][0].run_if_changed',
        "could not compile run_if_changed regex",
        id="bad-run-if-changed",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: unit
            branches: ["release-[0-9"]
            spec: {containers: [{image: a}]}
        """,
        4,
        'presubmits["org/repo"][0].branches[0]',
        "could not compile branches regex",
        id="bad-branches",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: unit
            skip_branches: ["(*"]
            spec: {containers: [{image: a}]}
        """,
        4,
        'presubmits["org/repo"][0].skip_branches[0]',
        "could not compile skip_branches regex",
        id="bad-skip-branches",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: unit
            trigger: "(?m)^/test (unit"
            rerun_command: "/test unit"
            spec: {containers: [{image: a}]}
        """,
        4,
        'presubmits["org/repo"][0].trigger',
        "could not compile trigger regex",
        id="bad-trigger",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: unit
            trigger: "(?m)^/test unit$"
            rerun_command: "/retest-unit"
            spec: {containers: [{image: a}]}
        """,
        5,
        'presubmits["org/repo"][0].rerun_command',
        'rerun command "/retest-unit" does not match trigger',
        id="rerun-not-matching-trigger",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: unit
            trigger: "(?m)^/unit$"
            spec: {containers: [{image: a}]}
        """,
        4,
        'presubmits["org/repo"][0].trigger',
        "both of trigger and rerun_command",
        id="trigger-without-rerun",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: unit
            always_run: true
            run_if_changed: "^src/"
            spec: {containers: [{image: a}]}
        """,
        4,
        'presubmits["org/repo"][0].always_run',
        "mutually exclusive",
        id="always-run-and-run-if-changed",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: unit
            spec:
              containers: []
        """,
        5,
        'presubmits["org/repo"][0].spec.containers',
        "at least one container",
        id="no-containers",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: unit
            always_run: "sometimes"
            spec: {containers: [{image: a}]}
        """,
        4,
        'presubmits["org/repo"][0].always_run',
        "valid boolean",
        id="wrong-type",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - always_run: true
            spec: {containers: [{image: a}]}
        """,
        3,
        'presubmits["org/repo"][0].name',
        "required field is missing",
        id="missing-name",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: "unit tests"
            spec: {containers: [{image: a}]}
        """,
        3,
        'presubmits["org/repo"][0].name',
        "must match regex",
        id="bad-job-name",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: unit
        """,
        3,
        'presubmits["org/repo"][0].spec',
        "must have a pod spec",
        id="kubernetes-without-spec",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: unit
            spec:
              containers:
              - image: a
                env:
                - name: PULL_NUMBER
                  value: "1"
        """,
        8,
        'presubmits["org/repo"][0].spec.containers[0].env[0]',
        "env PULL_NUMBER is reserved",
        id="reserved-env",
    ),
    pytest.param(
        """\
        periodics:
        - name: nightly
          spec: {containers: [{image: a}]}
        """,
        2,
        "periodics[0]",
        "at least one of cron, interval, or minimum_interval must be set",
        id="periodic-without-schedule",
    ),
    pytest.param(
        """\
        periodics:
        - name: nightly
          interval: 1h
          cron: "0 * * * *"
          spec: {containers: [{image: a}]}
        """,
        4,
        "periodics[0].cron",
        "mutually exclusive",
        id="periodic-with-both",
    ),
    pytest.param(
        """\
        periodics:
        - name: nightly
          cron: "61 * * * *"
          spec: {containers: [{image: a}]}
        """,
        3,
        "periodics[0].cron",
        "invalid cron '61 * * * *'",
        id="bad-cron",
    ),
    pytest.param(
        """\
        periodics:
        - name: nightly
          cron: "* * *"
          spec: {containers: [{image: a}]}
        """,
        3,
        "periodics[0].cron",
        "expected 5 fields",
        id="short-cron",
    ),
    pytest.param(
        """\
        periodics:
        - name: nightly
          interval: 10 minutes
          spec: {containers: [{image: a}]}
        """,
        3,
        "periodics[0].interval",
        "invalid duration '10 minutes'",
        id="bad-interval",
    ),
    pytest.param(
        """\
        periodics:
        - name: nightly
          interval: 1h
          spec: {containers: [{image: a}]}
        - name: nightly
          interval: 2h
          spec: {containers: [{image: a}]}
        """,
        5,
        "periodics[1].name",
        "duplicated periodic job: nightly",
        id="duplicate-periodic",
    ),
    pytest.param(
        """\
        plank:
          pod_pending_timeout: soon
        """,
        2,
        "plank.pod_pending_timeout",
        "invalid duration 'soon'",
        id="bad-plank-duration",
    ),
    pytest.param(
        """\
        tide:
          merge_method:
            org/repo: fast-forward
        """,
        3,
        'tide.merge_method["org/repo"]',
        "merge method 'fast-forward' is not one of merge, squash, rebase",
        id="bad-merge-method",
    ),
    pytest.param(
        """\
        tide:
          merge_method:
            org:
              repo: rebase
              other: cherry
        """,
        5,
        'tide.merge_method["org"]["other"]',
        "merge method 'cherry'",
        id="bad-nested-merge-method",
    ),
    pytest.param(
        """\
        tide:
          queries:
          - repos: [org/repo]
            labels: [lgtm]
            missingLabels: [lgtm]
        """,
        5,
        "tide.queries[0].missingLabels",
        "both required and missing",
        id="label-required-and-missing",
    ),
    pytest.param(
        """\
        prowjob_namespace: default
        prowjob_namespace: prow
        """,
        2,
        "prowjob_namespace",
        "key appears twice (first on line 1) with different values",
        id="conflicting-duplicate-key",
    ),
    pytest.param(
        """\
        presubmits:
          org/repo:
          - name: unit
            spec: {containers: [{image: a}]
        """,
        4,
        "(top level)",
        "invalid YAML: '{' opened here is not closed",
        id="yaml-syntax",
    ),
    pytest.param(
        """\
        - just
        - a list
        """,
        1,
        "(top level)",
        "the top level must be a mapping",
        id="top-level-list",
    ),
]


@pytest.mark.parametrize(("config", "line", "path", "message"), CASES)
def test_invalid_config_is_refused_with_line_path_and_reason(
    config, line, path, message
):
    errors = only_error(config=config_with(config))
    matching = [e for e in errors if e.path == path and message in e.message]
    assert matching, f"no error at {path} containing {message!r}: {errors}"
    assert matching[0].line == line
    assert matching[0].file == "config.yaml"
    assert str(matching[0]).startswith(f"config.yaml:{line}: {path}: ")


PLUGIN_CASES = [
    pytest.param(
        "plugins:\n  org/repo:\n  - trigger\n  - lgmt\n",
        4,
        'plugins["org/repo"][1]',
        'unknown plugin "lgmt" (did you mean "lgtm"?)',
        id="unknown-plugin",
    ),
    pytest.param(
        "plugins:\n  org:\n    plugins: [lgtm]\n  org/repo:\n    plugins: [lgtm]\n",
        5,
        'plugins["org/repo"].plugins[0]',
        'plugin "lgtm" is enabled for org/repo and again for its org org',
        id="plugin-at-org-and-repo",
    ),
    pytest.param(
        "size:\n  s: 10\n  m: 5\n",
        3,
        "size.m",
        "size thresholds must increase",
        id="size-not-ascending",
    ),
    pytest.param(
        "blockades:\n- repos: [org]\n  blockregexps: ['vendor/(']\n",
        3,
        "blockades[0].blockregexps[0]",
        "could not compile blockregexps regex",
        id="bad-blockade-regex",
    ),
    pytest.param(
        "triggers:\n- repos: [org]\n  only_org_members: maybe\n",
        3,
        "triggers[0].only_org_members",
        "valid boolean",
        id="trigger-wrong-type",
    ),
]


@pytest.mark.parametrize(("plugins", "line", "path", "message"), PLUGIN_CASES)
def test_invalid_plugins_are_refused_with_line_path_and_reason(
    plugins, line, path, message
):
    errors = only_error(plugins=plugins)
    matching = [e for e in errors if e.path == path and message in e.message]
    assert matching, f"no error at {path} containing {message!r}: {errors}"
    assert matching[0].line == line
    assert matching[0].file == "plugins.yaml"


def test_one_bad_job_does_not_hide_problems_elsewhere():
    config = config_with(
        """\
        presubmits:
          org/repo:
          - name: unit
            max_concurrency: lots
            spec: {containers: [{image: a}]}
          - name: lint
            run_if_changed: "(("
            spec: {containers: [{image: a}]}
        periodics:
        - name: nightly
          cron: "every night"
          spec: {containers: [{image: a}]}
        """
    )
    errors = only_error(config=config)
    paths = {e.path for e in errors}
    assert 'presubmits["org/repo"][0].max_concurrency' in paths
    assert 'presubmits["org/repo"][1].run_if_changed' in paths
    assert "periodics[0].cron" in paths


def test_unknown_keys_warn_and_are_kept():
    config = config_with(
        """\
        plank:
          job_url_template: "https://deck/{{.Status.BuildID}}"
          shiny_new_option: 5
        """
    )
    result = validate(config, "")
    assert result.ok
    assert [str(w) for w in result.warnings] == [
        "config.yaml:3: plank.shiny_new_option: unknown field, kept but not used"
    ]
    assert result.config.plank.model_extra == {"shiny_new_option": 5}


def test_placeholder_repo_names_warn_but_load():
    plugins = "plugins:\n  GitHub账号/项目名:\n  - trigger\n"
    result = validate("", plugins)
    assert result.ok
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert warning.line == 2
    assert "is not a valid GitHub repository name" in warning.message


def test_duplicate_presubmit_names_on_disjoint_branches_are_allowed():
    config = config_with(
        """\
        presubmits:
          org/repo:
          - name: unit
            branches: [main]
            spec: {containers: [{image: a}]}
          - name: unit
            branches: [release-1.0]
            context: unit-release
            spec: {containers: [{image: a}]}
        """
    )
    result = validate(config, "")
    assert result.ok, result.errors


def test_same_context_for_two_jobs_is_refused():
    config = config_with(
        """\
        presubmits:
          org/repo:
          - name: unit
            spec: {containers: [{image: a}]}
          - name: unit-2
            context: unit
            spec: {containers: [{image: a}]}
        """
    )
    errors = only_error(config=config)
    assert any(
        e.path == 'presubmits["org/repo"][1].context'
        and 'report to the same GitHub context "unit"' in e.message
        for e in errors
    ), errors


@pytest.mark.parametrize(
    "cron",
    ["*/5 * * * *", "0 3 * * 1-5", "@daily", "@every 90m", "30 0 3 * * *"],
)
def test_valid_cron_forms_load(cron):
    config = f"periodics:\n- name: p\n  cron: '{cron}'\n  spec: {{containers: [{{image: a}}]}}\n"
    result = validate(config, "")
    assert result.ok, result.errors


def test_legacy_plugin_list_and_org_exclusions():
    plugins = textwrap.dedent(
        """\
        plugins:
          kubernetes:
            excluded_repos: [website]
            plugins: [trigger, lgtm]
          kubernetes/test-infra:
            plugins: [blockade]
          other: [cat, dog]
        """
    )
    result = validate("", plugins)
    assert result.ok, result.errors
    assert result.plugins.plugins_for("kubernetes", "test-infra") == [
        "trigger",
        "lgtm",
        "blockade",
    ]
    assert result.plugins.plugins_for("kubernetes", "website") == []
    assert result.plugins.plugins_for("other", "x") == ["cat", "dog"]


def test_defaults_follow_the_original():
    result = validate(
        "presubmits:\n  o/r:\n  - name: unit\n    spec: {containers: [{image: a}]}\n",
        "",
    )
    job = result.config.presubmits["o/r"][0]
    assert job.effective_context == "unit"
    assert job.effective_rerun_command == "/test unit"
    assert job.effective_trigger == r"(?m)^/test( | .* )unit,?($|\s.*)"
    assert result.config.prowjob_namespace == "default"
    assert result.config.plank.pod_pending_timeout == "10m"
    assert result.config.sinker.max_prowjob_age == "168h"
    assert result.config.tide.sync_period == "1m"
    assert result.plugins.section("size").xxl == 1000


def test_render_path_brackets_user_keys():
    assert (
        render_path(
            ("presubmits", "Lonor/kubernetes-springboot-demo", 0, "spec", "containers")
        )
        == 'presubmits["Lonor/kubernetes-springboot-demo"][0].spec.containers'
    )
    assert render_path(("plugins", "kubernetes", 2)) == 'plugins["kubernetes"][2]'
    assert render_path(("branch-protection",)) == "branch-protection"


def test_empty_sections_read_as_unset():
    config = "plank:\npresubmits:\nperiodics:\n- name: p\n  interval: 1h\n  labels:\n  spec: {containers: [{image: a}]}\n"
    result = validate(config, "plugins:\nexternal_plugins:\n")
    assert result.ok, result.errors
    assert result.config.plank.pod_pending_timeout == "10m"
    assert result.config.periodics[0].labels == {}
    assert result.plugins.plugins == {}


def _laughs(levels: int) -> str:
    text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for n in range(1, levels + 1):
        text += f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n"
    return text


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("a: 1\nb: \x01\n", 2, "character U+0001 cannot appear in YAML"),
        ("jobs: &loop [*loop]\n", 1, "an alias refers to a value that contains it"),
        (_laughs(9), 1, "aliases expand this YAML to 12345679021 values"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", None, "nested too deeply"),
    ],
    ids=["control-character", "alias-in-its-anchor", "billion-laughs", "deep"],
)
def test_yaml_that_cannot_be_checked_safely_is_refused(text, line, message):
    errors = only_error(config=text)
    assert len(errors) == 1
    assert message in errors[0].message
    assert errors[0].line == line


def test_shared_templates_through_aliases_still_load():
    text = textwrap.dedent(
        """\
        presubmits:
          org/repo:
          - &unit
            name: unit
            always_run: true
            spec: {containers: [{image: golang, command: [make]}]}
          - <<: *unit
            name: unit-race
        """
    )
    assert validate(config_text=text, plugins_text="").errors == []
