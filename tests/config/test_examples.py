"""The seed deployment's config.yaml and plugins.yaml load unchanged."""

from prow.config.validation import validate
from tests.conftest import ROOT

# The post the project started from, kept verbatim as a fixture.
SEED = ROOT / "tests" / "fixtures" / "seed" / "prow-on-kubernetes.zh.md"


def test_examples_load_with_only_the_expected_warnings(example_texts):
    result = validate(*example_texts)
    assert result.ok, result.errors
    messages = sorted((w.file, w.path) for w in result.warnings)
    assert messages == [
        ("config.yaml", "prowjob_namespace"),  # the Tide piece repeats it, same value
        ("config.yaml", "tide.queries[0].repos[0]"),  # placeholder repo
        ("plugins.yaml", 'plugins["GitHub账号/项目名"]'),  # placeholder repo
    ]
    assert all(
        "not a valid GitHub repository name" in w.message for w in result.warnings[1:]
    )


def test_example_config_content(example_texts):
    config = validate(*example_texts).config
    assert config.prowjob_namespace == "default"
    assert config.pod_namespace == "test-pods"

    (echo,) = config.periodics
    assert echo.name == "echo-test"
    assert echo.interval == "10m"
    assert echo.agent == "kubernetes"
    assert echo.spec["containers"] == [{"image": "alpine", "command": ["/bin/date"]}]

    (spring,) = config.presubmits_for("Lonor", "kubernetes-springboot-demo")
    assert spring.name == "spring"
    assert spring.decorate is False
    assert spring.always_run is False
    (container,) = spring.spec["containers"]
    assert container["image"] == "lawrence2018/maven:3.6-jdk-8"
    assert container["command"] == ["/bin/sh", "-c"]
    assert (
        "git fetch origin pull/${PULL_NUMBER}/head:pr-${PULL_NUMBER}"
        in container["args"][0]
    )
    assert container["resources"]["requests"] == {"cpu": "2000m", "memory": "1536Mi"}

    tide = config.tide
    assert tide.merge_method == {"kubeflow/community": "squash"}
    assert tide.target_url == "http://你的域名/tide"
    (query,) = tide.queries
    assert query.repos == ["GitHub账号/项目名"]
    assert query.labels == ["lgtm", "approved"]
    assert query.missingLabels == [
        "do-not-merge",
        "do-not-merge/hold",
        "do-not-merge/work-in-progress",
        "needs-ok-to-test",
        "needs-rebase",
    ]
    options = tide.context_options
    assert options.from_branch_protection is True
    assert options.skip_unknown_contexts is True
    org = options.orgs["org"]
    assert org.required_contexts == ["check-required-for-all-repos"]
    repo = org.repos["repo"]
    assert repo.required_contexts == ["check-required-for-all-branches"]
    branch = repo.branches["branch"]
    assert branch.from_branch_protection is False
    assert branch.required_contexts == ["required_test"]
    assert branch.optional_contexts == ["optional_test"]


def test_example_plugins_content(example_texts):
    plugins = validate(*example_texts).plugins
    enabled = plugins.plugins_for("GitHub账号", "项目名")
    # The seed's 23, then hold, which the seed's Tide query waits on.
    assert len(enabled) == 24
    assert enabled[:3] == ["size", "cat", "dog"]
    assert enabled[23] == "hold"
    assert {"trigger", "lgtm", "approve", "blockade", "milestonestatus"} <= set(enabled)


def test_examples_hold_the_seed_text_unchanged(example_texts):
    # Every non-blank line of the seed's config pieces appears, in order, in
    # the shipped examples: nothing was retyped or "fixed".
    seed = SEED.read_text(encoding="utf-8")
    config_text, plugins_text = example_texts
    pieces = {
        "periodics": seed[
            seed.index("    prowjob_namespace: default") : seed.index(
                "---\napiVersion: apiextensions"
            )
        ],
        "tide": seed[
            seed.index('prowjob_namespace: "default"') : seed.index("应用更改")
        ],
        "presubmits": seed[seed.index("presubmits:\n") : seed.index("重新配置")],
        "plugins": seed[seed.index("plugins:\n  GitHub") : seed.index("Tide 的配置")],
    }
    for name, piece in pieces.items():
        target = plugins_text if name == "plugins" else config_text
        lines = [line for line in piece.splitlines() if line.strip()]
        if name == "periodics":
            # Inside the ConfigMap the file is indented by four spaces.
            lines = [line[4:] for line in lines]
        position = 0
        for line in lines:
            found = target.find(line + "\n", position)
            assert found >= 0, f"{name}: seed line {line!r} missing or out of order"
            position = found + len(line)
