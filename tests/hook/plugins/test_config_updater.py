"""config-updater through /hook: a merged pull request that changes the
config files makes them the active config version, once, and says so."""

import copy
import json

import pytest

from hook.models import WebhookDelivery
from hook.plugins.config_updater import glob_matches, merge_job_config
from hook.services import RetryLater, delivery_dispatch, delivery_replay
from prow.config.models import ConfigVersion
from prow.config.validation import validate
from tests.hook.plugins.conftest import ORG, REPO
from tests.webhooks import fixture_payload

pytestmark = pytest.mark.django_db

PR = 7
HEAD = "1" * 40
MERGE = "abcdef0123456789abcdef0123456789abcdef01"
ISSUE = f"/repos/{ORG}/{REPO}/issues/{PR}"
CONTENTS = f"/repos/{ORG}/{REPO}/contents/"
BOT = "prow-bot"

MAPS = """\
config_updater:
  maps:
    prow/config.yaml:
      name: config
    prow/plugins.yaml:
      name: plugins
      key: test-key
    boskos/resources.yaml:
      name: boskos-config
      clusters:
        default: [boskos]
"""
JOB_MAPS = """\
config_updater:
  maps:
    prow/config.yaml:
      name: config
    prow/plugins.yaml:
      name: plugins
    config/jobs/**/*.yaml:
      name: job-config
"""


def plugins_text(maps: str = MAPS, comment: str = "") -> str:
    enabled = json.dumps({f"{ORG}/{REPO}": ["config-updater"]})
    return f"# {comment}\nplugins: {enabled}\n{maps}"


OLD_CONFIG = "log_level: info\n"
NEW_CONFIG = "log_level: debug\n"
NEW_PLUGINS = plugins_text(comment="new")


def change(filename, status="modified", previous=""):
    item = {"filename": filename, "status": status}
    if previous:
        item["previous_filename"] = previous
    return item


@pytest.fixture
def github(fake_github, clean_broker):
    fake_github.add_repo(ORG, REPO, default_branch="main")
    return fake_github


@pytest.fixture
def active(activate_config):
    """The config before the merge; returns its version."""

    def make(config_yaml=OLD_CONFIG, maps=MAPS):
        return activate_config(config_yaml=config_yaml, plugins_yaml=plugins_text(maps))

    return make


def merged_pull(github, *changes, files=None):
    """A merged pull request changing `changes`, with `files` (path ->
    text) at its merge commit."""
    github.add_pull(ORG, REPO, PR, "alice", HEAD, files=list(changes), state="closed")
    for path, text in (files or {}).items():
        github.set_file(ORG, REPO, path, text, ref=MERGE)


def pr_event(action="closed", *, merged=True, merge_sha=MERGE, base="main"):
    payload = copy.deepcopy(fixture_payload("pull_request.closed"))
    payload["action"] = action
    payload["number"] = PR
    payload["repository"].update(full_name=f"{ORG}/{REPO}", name=REPO)
    payload["repository"]["owner"]["login"] = ORG
    pr = payload["pull_request"]
    pr.update(
        number=PR,
        state="closed" if action == "closed" else "open",
        merged=merged,
        merge_commit_sha=merge_sha,
        title="Tune the config",
        body="Turn up logging.",
        html_url=f"https://github.com/{ORG}/{REPO}/pull/{PR}",
    )
    pr["user"]["login"] = "alice"
    pr["head"].update(sha=HEAD, ref="tune")
    pr["base"].update(ref=base)
    pr["base"]["repo"]["default_branch"] = "main"
    payload["sender"]["login"] = "alice"
    return payload


def deliver(post_webhook, payload=None, guid=None):
    response = post_webhook("pull_request", payload or pr_event(), guid=guid)
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.latest("received_at")
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def comments(github):
    return [c.body for c in github.comments(ORG, REPO, PR)]


def said(github):
    """The text of each comment, without the quoted pull request."""
    return [body.split("\n<!--")[0] for body in comments(github)]


def newest():
    return ConfigVersion.objects.order_by("-pk").first()


# The original's cases -------------------------------------------------------------


NOTHING_CASES = [
    (
        "opened pull request",
        pr_event("opened", merged=False),
        [change("prow/config.yaml")],
    ),
    ("closed without merging", pr_event(merged=False), [change("prow/config.yaml")]),
    ("merged, no mapped file", pr_event(), [change("foo.txt")]),
    ("merged, no merge commit", pr_event(merge_sha=None), [change("prow/config.yaml")]),
    (
        "merged into another branch",
        pr_event(base="release-1.0"),
        [change("prow/config.yaml")],
    ),
    ("a ConfigMap not read here", pr_event(), [change("boskos/resources.yaml")]),
]


@pytest.mark.parametrize(
    "payload,changes", [c[1:] for c in NOTHING_CASES], ids=[c[0] for c in NOTHING_CASES]
)
def test_merges_that_change_no_config_do_nothing(
    github, active, post_webhook, payload, changes
):
    before = active()
    merged_pull(github, *changes, files={"prow/config.yaml": NEW_CONFIG})
    github.clear_requests()
    delivery = deliver(post_webhook, payload)
    assert delivery.status == WebhookDelivery.Status.DONE
    assert newest() == before
    assert comments(github) == []
    assert github.requests(path=f"{CONTENTS}prow/config.yaml") == []
    if not payload["pull_request"]["merged"] or payload["action"] != "closed":
        assert github.requests(path=f"/repos/{ORG}/{REPO}/pulls/{PR}/files") == []


UPDATE_CASES = [
    (
        "config.yaml: 1 update",
        [change("prow/config.yaml")],
        {"prow/config.yaml": NEW_CONFIG},
        NEW_CONFIG,
        plugins_text(),
        "Updated the `config` configmap using the following files:\n"
        " - key `config.yaml` using file `prow/config.yaml`",
    ),
    (
        "plugins.yaml: 1 update with custom key",
        [change("prow/plugins.yaml")],
        {"prow/plugins.yaml": NEW_PLUGINS},
        OLD_CONFIG,
        NEW_PLUGINS,
        "Updated the `plugins` configmap using the following files:\n"
        " - key `test-key` using file `prow/plugins.yaml`",
    ),
    (
        "config.yaml, plugins.yaml and resources.yaml: 2 updates",
        [
            change("prow/plugins.yaml"),
            change("prow/config.yaml"),
            change("boskos/resources.yaml"),
        ],
        {"prow/config.yaml": NEW_CONFIG, "prow/plugins.yaml": NEW_PLUGINS},
        NEW_CONFIG,
        NEW_PLUGINS,
        "Updated the following 2 configmaps:\n"
        " * `config` configmap using the following files:\n"
        "   - key `config.yaml` using file `prow/config.yaml`\n"
        " * `plugins` configmap using the following files:\n"
        "   - key `test-key` using file `prow/plugins.yaml`",
    ),
]


@pytest.mark.parametrize(
    "changes,files,config_yaml,plugins_yaml,message",
    [c[1:] for c in UPDATE_CASES],
    ids=[c[0] for c in UPDATE_CASES],
)
def test_a_merged_change_becomes_the_active_config(
    github, active, post_webhook, changes, files, config_yaml, plugins_yaml, message
):
    before = active()
    merged_pull(github, *changes, files=files)
    github.clear_requests()
    deliver(post_webhook)
    version = newest()
    assert version.pk != before.pk
    assert version.source == ConfigVersion.Source.MERGE
    assert (version.config_yaml, version.plugins_yaml) == (config_yaml, plugins_yaml)
    assert f"{ORG}/{REPO}#{PR}" in version.comment and MERGE in version.comment
    (body,) = comments(github)
    assert body.startswith(
        f"@alice: {message}\n\nConfig version {version.pk} is now active.\n"
    )
    assert "In response to [this](https://github.com/" in body
    assert ">Turn up logging." in body
    # Files are read at the merge commit, and nothing but the comment written.
    for path in files:
        (read,) = github.requests("GET", f"{CONTENTS}{path}")
        assert read.query["ref"] == MERGE
    writes = [(r.method, r.path) for r in github.requests() if r.method != "GET"]
    assert writes == [("POST", f"{ISSUE}/comments")]


def test_the_file_not_changed_is_the_active_versions(
    github, activate_config, post_webhook
):
    """An admin's edit of config.yaml survives a merge of plugins.yaml."""
    activate_config(config_yaml=OLD_CONFIG, plugins_yaml=plugins_text())
    edited = activate_config(
        config_yaml="log_level: warn\n", plugins_yaml=plugins_text()
    )
    merged_pull(
        github,
        change("prow/plugins.yaml"),
        files={"prow/plugins.yaml": NEW_PLUGINS, "prow/config.yaml": NEW_CONFIG},
    )
    deliver(post_webhook)
    version = newest()
    assert version.pk > edited.pk
    assert version.config_yaml == "log_level: warn\n"
    assert version.plugins_yaml == NEW_PLUGINS
    assert github.requests("GET", f"{CONTENTS}prow/config.yaml") == []


def test_only_allowed_repos_update(github, active, post_webhook):
    maps = MAPS.replace(
        "      name: config\n",
        "      name: config\n      denied_repos: [Codertocat]\n",
        1,
    )
    before = active(maps=maps)
    merged_pull(
        github, change("prow/config.yaml"), files={"prow/config.yaml": NEW_CONFIG}
    )
    deliver(post_webhook)
    assert newest() == before
    assert comments(github) == []


def test_a_repo_without_the_plugin_updates_nothing(
    github, activate_config, post_webhook
):
    before = activate_config(
        config_yaml=OLD_CONFIG,
        plugins_yaml=f'plugins: {{"{ORG}/other": [config-updater]}}\n{MAPS}',
    )
    merged_pull(
        github, change("prow/config.yaml"), files={"prow/config.yaml": NEW_CONFIG}
    )
    deliver(post_webhook)
    assert newest() == before
    assert comments(github) == []


# Refusals ---------------------------------------------------------------------------


def test_an_invalid_change_keeps_the_active_config_and_lists_the_errors(
    github, active, post_webhook
):
    before = active()
    bad_config = "log_level: debug\nplank:\n  max_concurrency: lots\n"
    bad_plugins = plugins_text() + "size:\n  s: 50\n  m: 10\n"
    merged_pull(
        github,
        change("prow/config.yaml"),
        change("prow/plugins.yaml"),
        files={"prow/config.yaml": bad_config, "prow/plugins.yaml": bad_plugins},
    )
    deliver(post_webhook)
    assert newest() == before
    (text,) = said(github)
    assert text.startswith(
        "@alice: The config was not updated: the files this pull request merged "
        "have errors, so the active config stays as it was. Please fix them in a "
        "new pull request:\n\n"
    )
    assert "- `prow/config.yaml` line 3 `plank.max_concurrency`: " in text
    assert (
        "- `prow/plugins.yaml` line 16 `size.m`: size thresholds must increase" in text
    )


@pytest.mark.parametrize(
    "path,status,previous,what",
    [
        ("prow/plugins.yaml", "removed", "", "plugins.yaml"),
        ("prow/config.yaml", "removed", "", "config.yaml"),
        ("prow/old-config.yaml", "renamed", "prow/config.yaml", "config.yaml"),
    ],
)
def test_deleting_a_config_file_is_refused(
    github, active, post_webhook, path, status, previous, what
):
    before = active()
    merged_pull(github, change(path, status, previous))
    deliver(post_webhook)
    assert newest() == before
    (text,) = said(github)
    deleted = previous or path
    assert text.startswith(
        f"@alice: This pull request deleted `{deleted}`, the {what} of the running "
        "config. The config must stay whole, so it was not updated; to stop "
        "updating it from this file, remove the file's entry from "
        "`config_updater.maps` instead."
    )


# Job config ---------------------------------------------------------------------------


PRESUBMIT = """\
presubmits:
  {repo}:
  - name: {name}
    always_run: true
    spec:
      containers:
      - image: alpine
        command: [true]
"""


def test_job_config_files_are_merged_into_config_yaml(github, active, post_webhook):
    before = active(maps=JOB_MAPS)
    unit = PRESUBMIT.format(repo=f"{ORG}/{REPO}", name="unit")
    e2e = PRESUBMIT.format(repo=f"{ORG}/{REPO}", name="e2e")
    merged_pull(
        github,
        change("config/jobs/team/unit.yaml", "added"),
        change("config/jobs/old.yaml", "removed"),
        files={
            "prow/config.yaml": NEW_CONFIG,
            "config/jobs/team/unit.yaml": unit,
            "config/jobs/e2e.yaml": e2e,
            "config/jobs/README.md": "not a job file",
        },
    )
    deliver(post_webhook)
    version = newest()
    assert version.pk != before.pk
    result = validate(version.config_yaml, version.plugins_yaml)
    assert result.ok
    assert result.config.log_level == "debug"
    names = [j.name for j in result.config.presubmits_for(ORG, REPO)]
    assert sorted(names) == ["e2e", "unit"]
    assert version.plugins_yaml == before.plugins_yaml
    (text,) = said(github)
    assert text.startswith(
        "@alice: Updated the `job-config` configmap using the following files:\n"
        " - key `unit.yaml` using file `config/jobs/team/unit.yaml`\n"
        " - key `old.yaml` removed, as `config/jobs/old.yaml` was deleted"
    )


JOB_MESSAGE_CASES = [
    (
        "renamed: the old key goes",
        "",
        [change("config/jobs/new.yaml", "renamed", "config/jobs/old.yaml")],
        " - key `old.yaml` removed, as `config/jobs/old.yaml` was deleted\n"
        " - key `new.yaml` using file `config/jobs/new.yaml`",
    ),
    (
        "use_full_path_as_key",
        "      use_full_path_as_key: true\n",
        [change("config/jobs/new.yaml", "added")],
        " - key `config-jobs-new.yaml` using file `config/jobs/new.yaml`",
    ),
]


@pytest.mark.parametrize(
    "extra,changes,listed",
    [c[1:] for c in JOB_MESSAGE_CASES],
    ids=[c[0] for c in JOB_MESSAGE_CASES],
)
def test_job_config_keys_are_named_as_the_original_names_them(
    github, active, post_webhook, extra, changes, listed
):
    active(maps=JOB_MAPS + extra)
    job = PRESUBMIT.format(repo=f"{ORG}/{REPO}", name="unit")
    merged_pull(
        github,
        *changes,
        files={"prow/config.yaml": NEW_CONFIG, "config/jobs/new.yaml": job},
    )
    deliver(post_webhook)
    (text,) = said(github)
    assert text.startswith(
        "@alice: Updated the `job-config` configmap using the following files:\n"
        + listed
        + "\n\nConfig version "
    )


def test_an_error_only_the_merged_jobs_have_names_the_merge(
    github, active, post_webhook
):
    """Two files' jobs reporting to one context: no file alone is wrong."""
    before = active(maps=JOB_MAPS)
    unit = PRESUBMIT.format(repo=f"{ORG}/{REPO}", name="unit")
    other = unit.replace("name: unit", "name: unit2\n    context: unit")
    merged_pull(
        github,
        change("config/jobs/b.yaml", "added"),
        files={
            "prow/config.yaml": NEW_CONFIG,
            "config/jobs/a.yaml": unit,
            "config/jobs/b.yaml": other,
        },
    )
    deliver(post_webhook)
    assert newest() == before
    (text,) = said(github)
    assert (
        "- `prow/config.yaml with the job config` "
        f'`presubmits["{ORG}/{REPO}"][1].context`: jobs unit and unit2 report '
        'to the same GitHub context "unit"'
    ) in text


def test_a_job_defined_in_two_files_is_refused_with_both_places(
    github, active, post_webhook
):
    before = active(maps=JOB_MAPS)
    job = PRESUBMIT.format(repo=f"{ORG}/{REPO}", name="unit")
    merged_pull(
        github,
        change("config/jobs/b.yaml", "added"),
        files={
            "prow/config.yaml": NEW_CONFIG,
            "config/jobs/a.yaml": job,
            "config/jobs/b.yaml": job,
        },
    )
    deliver(post_webhook)
    assert newest() == before
    (text,) = said(github)
    assert (
        "- `config/jobs/b.yaml` line 3: duplicated presubmit job 'unit' "
        "(also in `config/jobs/a.yaml` line 3)"
    ) in text


def test_merge_job_config_reports_each_files_own_lines():
    text, problems = merge_job_config(
        "prow/config.yaml",
        "log_level: info\n",
        {
            "jobs/a.yaml": "presubmits:\n  o/r:\n  - name: x\n    max_concurrency: lots\n",
            "jobs/b.yaml": "plank: {}\n",
            "jobs/c.yaml": "presubmits: [\n",
        },
    )
    found = {(p.file, p.line) for p in problems}
    assert ("jobs/a.yaml", 4) in found
    assert ("jobs/b.yaml", 1) in found
    assert any(
        p.file == "jobs/c.yaml" and "invalid YAML" in p.message for p in problems
    )


@pytest.mark.parametrize(
    "pattern,path,matches",
    [
        ("config/jobs/**/*.yaml", "config/jobs/a.yaml", True),
        ("config/jobs/**/*.yaml", "config/jobs/x/y/a.yaml", True),
        ("config/jobs/*.yaml", "config/jobs/x/a.yaml", False),
        ("config/jobs/*.yaml", "config/jobs/a.yml", False),
        ("prow/config.yaml", "prow/config.yaml", True),
        ("prow/config.yaml", "prow/configXyaml", False),
        ("dir/subdir/**/*.yaml", "dir/subdir/fejtaverse/sig-foo/added.yaml", True),
        ("a/[bc].yaml", "a/c.yaml", True),
    ],
)
def test_globs_match_as_the_originals(pattern, path, matches):
    assert glob_matches(pattern, path) is matches


# Once, and through failures --------------------------------------------------------


def test_a_second_handling_changes_nothing(github, active, post_webhook):
    active()
    merged_pull(
        github, change("prow/config.yaml"), files={"prow/config.yaml": NEW_CONFIG}
    )
    delivery = deliver(post_webhook, guid="merge-1")
    version = newest()
    # GitHub's Redeliver, a replay of every plugin, and the same merge
    # delivered under another GUID.
    github.clear_requests()
    response = post_webhook("pull_request", pr_event(), guid="merge-1")
    assert response.status_code == 200
    delivery_dispatch(delivery.pk)
    delivery_replay(delivery, rerun_all=True)
    delivery_dispatch(delivery.pk)
    deliver(post_webhook, guid="merge-1-again")
    assert newest() == version
    assert ConfigVersion.objects.filter(source=ConfigVersion.Source.MERGE).count() == 1
    assert len(comments(github)) == 1
    assert github.requests("POST") == []


def test_content_already_active_is_not_stored_again(
    github, activate_config, post_webhook
):
    same = activate_config(config_yaml=NEW_CONFIG, plugins_yaml=plugins_text())
    merged_pull(
        github, change("prow/config.yaml"), files={"prow/config.yaml": NEW_CONFIG}
    )
    deliver(post_webhook)
    assert newest() == same
    (text,) = said(github)
    assert text.endswith(
        f"The active config (version {same.pk}) already had this content."
    )


def test_a_refusal_is_said_once(github, active, post_webhook):
    active()
    merged_pull(github, change("prow/plugins.yaml", "removed"))
    delivery = deliver(post_webhook)
    delivery_replay(delivery, rerun_all=True)
    delivery_dispatch(delivery.pk)
    assert len(comments(github)) == 1


@pytest.mark.parametrize(
    "fail",
    [
        pytest.param(
            lambda gh: gh.fail_next("POST", f"^{ISSUE}/comments$", status=502),
            id="comment 502",
        ),
        pytest.param(
            # More times than the client tries a failed read itself.
            lambda gh: gh.fail_next(
                "GET", f"^{CONTENTS}prow/config.yaml$", status=502, times=4
            ),
            id="file 502",
        ),
        pytest.param(
            lambda gh: gh.rate_limit_next(
                retry_after=600, path_regex=f"^{ISSUE}/comments$"
            ),
            id="rate limited comment",
        ),
    ],
)
def test_a_github_error_mid_update_completes_once_after_the_retry(
    github, active, post_webhook, fail, settings
):
    settings.PROW_GITHUB_RETRY_BACKOFF_SECONDS = 0
    before = active()
    merged_pull(
        github, change("prow/config.yaml"), files={"prow/config.yaml": NEW_CONFIG}
    )
    fail(github)
    post_webhook("pull_request", pr_event())
    delivery = WebhookDelivery.objects.latest("received_at")
    with pytest.raises(RetryLater):
        delivery_dispatch(delivery.pk)
    assert comments(github) == []
    github.reset_rate_limit()
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DONE
    merges = ConfigVersion.objects.filter(source=ConfigVersion.Source.MERGE)
    assert merges.count() == 1
    assert merges.get().pk > before.pk
    assert merges.get().config_yaml == NEW_CONFIG
    (text,) = said(github)
    assert text.endswith(f"Config version {merges.get().pk} is now active.")


# The section --------------------------------------------------------------------------


SECTION_CASES = [
    (
        "name and partitioned_names",
        "    a.yaml:\n      name: x\n      partitioned_names: [y]\n",
        'plugins.yaml:5: config_updater.maps["a.yaml"].partitioned_names: '
        "'name' and 'partitioned_names' are mutually exclusive",
    ),
    (
        "no name",
        "    a.yaml:\n      key: k\n",
        'plugins.yaml:3: config_updater.maps["a.yaml"]: needs the name of the '
        "ConfigMap it updates",
    ),
    (
        "unknown cluster group",
        "    a.yaml:\n      name: config\n      cluster_groups: [nope]\n",
        'plugins.yaml:5: config_updater.maps["a.yaml"].cluster_groups[0]: '
        "no cluster group named 'nope' in cluster_groups",
    ),
    (
        "one key from two files",
        "    a/x.yaml:\n      name: data\n    b/x.yaml:\n      name: data\n",
        'plugins.yaml:5: config_updater.maps["b/x.yaml"]: key x.yaml in ConfigMap '
        "data is updated from more than one file (also from a/x.yaml)",
    ),
    (
        "config from a pattern",
        "    prow/*.yaml:\n      name: config\n",
        'plugins.yaml:3: config_updater.maps["prow/*.yaml"]: the config file must '
        "be one path, not a pattern",
    ),
    (
        "job config without config",
        "    jobs/**/*.yaml:\n      name: job-config\n",
        'plugins.yaml:3: config_updater.maps["jobs/**/*.yaml"]: job config files '
        "are merged into config.yaml, so a map for the config ConfigMap "
        "(name: config) is needed too",
    ),
]


@pytest.mark.parametrize(
    "maps,error", [c[1:] for c in SECTION_CASES], ids=[c[0] for c in SECTION_CASES]
)
def test_the_section_is_checked_with_lines(maps, error):
    result = validate("", f"config_updater:\n  maps:\n{maps}")
    assert error in [str(e) for e in result.errors]


def test_the_section_defaults_to_the_originals_maps():
    for text in ("", "config_updater:\n  maps: {}\n"):
        result = validate("", text)
        section = result.plugins.section("config_updater")
        assert {p: s.name for p, s in section.maps.items()} == {
            "config/prow/config.yaml": "config",
            "config/prow/plugins.yaml": "plugins",
        }
        assert section.gzip is False


def test_maps_for_configmaps_not_read_here_are_warnings():
    result = validate(
        "", "config_updater:\n  maps:\n    l.yaml:\n      name: label-config\n"
    )
    assert result.ok
    (warning,) = result.warnings
    assert str(warning).startswith(
        "plugins.yaml:3: config_updater.maps[\"l.yaml\"]: the 'label-config' "
        "ConfigMap is not one this system reads"
    )


def test_plugin_help_describes_it_and_its_section(client, active):
    active()
    document = client.get("/plugin-help").json()
    entry = document["PluginHelp"]["config-updater"]
    assert entry["Events"] == ["pull_request"]
    assert "stores a new config version" in entry["Description"]
    assert "refused with a comment" in entry["Description"]
    assert entry["Config"][""].startswith("config_updater: maps")
    assert document["RepoPlugins"][f"{ORG}/{REPO}"] == ["config-updater"]
