"""size through /hook: one size/* label by the lines a pull request
changes, generated files left out."""

import textwrap

import pytest

from prow.config.validation import validate
from tests.hook.plugins.pulls import (
    BASE,
    HEAD,
    ORG,
    PR,
    REPO,
    comments,
    deliver,
    handle,
    handle_failing,
    labels,
    post,
    pr_event,
    writes,
)

pytestmark = pytest.mark.django_db

LABELS_PATH = f"/repos/{ORG}/{REPO}/issues/{PR}/labels"

GENERATED_FILES = """
    # Comments
    file-name foobar

    path-prefix generated

    paths-from-repo docs/.generated_docs
"""
GENERATED_DOCS = """
    # Comments work

    # And empty lines don't matter
    foobar
    mypath1
    mypath2
    mydir/mypath3
"""
GITATTRIBUTES = """
    # comments
    foobar linguist-generated=true
    generated/**/*.txt linguist-generated=true
    *.pb.go linguist-generated=true
    /vendor/ linguist-generated=true
    docs/*.md linguist-generated=false
"""
ORIGINAL_CHANGES = [
    ("foobar", 10, 10),
    ("barfoo", 50, 0),
    ("generated/what.txt", 30, 0),
    ("generated/my/file.txt", 300, 0),
]


@pytest.fixture(autouse=True)
def github(fake_github, plugins_enabled, clean_broker):
    fake_github.add_repo(ORG, REPO)
    fake_github.add_branch(ORG, REPO, "main", BASE)
    plugins_enabled({f"{ORG}/{REPO}": ["size"]})
    return fake_github


def on_pull(fake, changes, labels=()):
    fake.add_pull(
        ORG,
        REPO,
        PR,
        "alice",
        HEAD,
        base_sha=BASE,
        labels=labels,
        files=[
            {"filename": name, "additions": a, "deletions": d, "changes": a + d}
            for name, a, d in changes
        ],
    )
    fake.clear_requests()


def at_base(fake, **files):
    for path, text in files.items():
        fake.set_file(ORG, REPO, path, textwrap.dedent(text), ref=BASE)


# The original's cases: (files at the base, changes, labels before, after).
CASES = [
    pytest.param({}, [("foobar", 10, 10), ("barfoo", 3, 4)], [], "size/S", id="S"),
    pytest.param(
        {".generated_files": "file-name foobar\n\npath-prefix generated\n"},
        ORIGINAL_CHANGES,
        [],
        "size/M",
        id="generated-files",
    ),
    pytest.param(
        {".gitattributes": GITATTRIBUTES},
        ORIGINAL_CHANGES,
        [],
        "size/M",
        id="gitattributes",
    ),
    pytest.param(
        {".generated_files": GENERATED_FILES, "docs/.generated_docs": GENERATED_DOCS},
        [
            ("foobar", 10, 10),
            ("barfoo", 5, 0),
            ("generated/what.txt", 30, 0),
            ("generated/my/file.txt", 300, 0),
            ("mypath1", 300, 0),
            ("mydir/mypath3", 300, 0),
        ],
        [],
        "size/XS",
        id="paths-from-repo",
    ),
    pytest.param(
        {".generated_files": GENERATED_FILES, "docs/.generated_docs": GENERATED_DOCS},
        [("foobar", 10, 10), ("barfoo", 5, 0), ("mypath1", 300, 0)],
        ["irrelevant", "size/XS"],
        "size/XS",
        id="unchanged-size",
    ),
    pytest.param({}, [("foobar", 30, 40)], [], "size/M", id="M"),
    pytest.param({}, [("a", 99, 0)], ["size/XS"], "size/M", id="XS-to-M"),
    pytest.param({}, [("a", 100, 0)], ["size/M"], "size/L", id="L-at-bound"),
    pytest.param({}, [("a", 499, 0)], [], "size/L", id="L-below-XL"),
    pytest.param({}, [("a", 500, 0)], [], "size/XL", id="XL"),
    pytest.param({}, [("a", 999, 0)], ["size/S", "size/XXL"], "size/XL", id="two"),
    pytest.param({}, [("a", 600, 400)], [], "size/XXL", id="XXL"),
    pytest.param({}, [], ["size/L"], "size/XS", id="no-changes"),
    pytest.param(
        {".gitattributes": GITATTRIBUTES},
        [
            ("api/types.pb.go", 900, 0),
            ("vendor/x/y.go", 900, 0),
            ("docs/readme.md", 12, 0),
            ("src/vendor/z.go", 3, 0),
        ],
        [],
        "size/S",
        id="gitattributes-patterns",
    ),
    pytest.param(
        # `path` names one exact path; a bad line is skipped, not fatal.
        {".generated_files": "path api/zz.go\nnonsense here too\nfile-prefix zz_\n"},
        [("api/zz.go", 900, 0), ("other/zz.go", 9, 0), ("x/zz_deep.go", 900, 0)],
        [],
        "size/XS",
        id="path-and-bad-line",
    ),
]


@pytest.mark.parametrize(("files", "changes", "before", "after"), CASES)
def test_the_size_label(post_webhook, github, files, changes, before, after):
    at_base(github, **files)
    on_pull(github, changes, labels=before)
    delivery = deliver(post_webhook, "pull_request", pr_event("opened", labels=before))
    assert delivery.plugin_results == {"size:pull_request": "ok"}
    kept = [label for label in before if not label.startswith("size/")]
    assert labels(github) == sorted([*kept, after])
    stale = [label for label in before if label.startswith("size/") and label != after]
    expected = [("DELETE", f"{LABELS_PATH}/{label}", None) for label in stale]
    if after not in before:
        expected.append(("POST", LABELS_PATH, {"labels": [after]}))
    assert writes(github) == expected
    assert comments(github) == []


def test_generated_files_are_read_at_the_base(post_webhook, github):
    # A pull request cannot make itself small by declaring its own files
    # generated.
    github.set_file(ORG, REPO, ".generated_files", "file-name big.go\n", ref=HEAD)
    on_pull(github, [("big.go", 200, 0)])
    deliver(post_webhook, "pull_request", pr_event("opened"))
    assert labels(github) == ["size/L"]
    reads = {r.query.get("ref") for r in github.requests("GET", "/contents/")}
    assert reads <= {BASE}


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("size:\n  s: 1\n  m: 2\n  l: 3\n  xl: 4\n  xxl: 5\n", "size/XXL"),
        ("size:\n  s: 50\n  m: 60\n  l: 70\n  xl: 80\n  xxl: 90\n", "size/XS"),
        ("size:\n  s: 0\n  m: 0\n", "size/S"),  # 0 means the default
    ],
)
def test_thresholds_come_from_the_size_section(
    post_webhook, github, plugins_enabled, section, expected
):
    plugins_enabled({f"{ORG}/{REPO}": ["size"]}, section)
    on_pull(github, [("foobar", 10, 10), ("barfoo", 3, 4)])
    deliver(post_webhook, "pull_request", pr_event("opened"))
    assert labels(github) == [expected]


@pytest.mark.parametrize("action", ["reopened", "synchronize", "edited"])
def test_recomputed_when_the_pull_request_changes(post_webhook, github, action):
    on_pull(github, [("a", 40, 0)], labels=["size/XS"])
    deliver(post_webhook, "pull_request", pr_event(action, labels=["size/XS"]))
    assert labels(github) == ["size/M"]


@pytest.mark.parametrize("action", ["closed", "labeled", "assigned"])
def test_other_actions_are_ignored(post_webhook, github, action):
    on_pull(github, [("a", 40, 0)])
    deliver(post_webhook, "pull_request", pr_event(action))
    assert writes(github) == []
    assert labels(github) == []


def test_a_redelivery_changes_nothing(post_webhook, github):
    on_pull(github, [("a", 40, 0)], labels=["size/XS"])
    payload = pr_event("synchronize", labels=["size/XS"])
    deliver(post_webhook, "pull_request", payload, guid="size-1")
    assert labels(github) == ["size/M"]
    github.clear_requests()
    deliver(post_webhook, "pull_request", payload, guid="size-1")
    # The next push, same size: the event carries the label.
    deliver(post_webhook, "pull_request", pr_event("synchronize", labels=["size/M"]))
    assert writes(github) == []
    assert labels(github) == ["size/M"]


def test_a_github_error_is_retried_and_done_once(post_webhook, github):
    on_pull(github, [("a", 40, 0)], labels=["size/XS"])
    github.fail_next("POST", r"/labels$", status=502)
    delivery_id = post(
        post_webhook, "pull_request", pr_event("synchronize", labels=["size/XS"])
    )
    handle_failing(delivery_id)
    # The stale label went; the new one did not come yet.
    assert labels(github) == []
    handle(delivery_id)
    assert labels(github) == ["size/M"]
    added = [w for w in writes(github) if w[0] == "POST"]
    assert added == [("POST", LABELS_PATH, {"labels": ["size/M"]})]


def test_a_failed_read_is_retried(post_webhook, github, settings):
    settings.PROW_GITHUB_RETRY_BACKOFF_SECONDS = 0
    on_pull(github, [("a", 40, 0)])
    github.fail_next("GET", r"/pulls/\d+/files", status=502, times=10)
    delivery_id = post(post_webhook, "pull_request", pr_event("opened"))
    handle_failing(delivery_id)
    assert labels(github) == []
    github.clear_faults()
    handle(delivery_id)
    assert labels(github) == ["size/M"]
    assert len([w for w in writes(github) if w[0] == "POST"]) == 1


@pytest.mark.parametrize(
    ("section", "line", "path", "message"),
    [
        ("size:\n  s: 10\n  m: 30\n  l: 20\n", 4, "size.l", "must increase"),
        ("size:\n  s: -5\n", 2, "size.s", "must be positive"),
        ("size:\n  xl: lots\n", 2, "size.xl", "valid integer"),
    ],
)
def test_the_section_is_checked_with_lines(section, line, path, message):
    result = validate("", section)
    matching = [e for e in result.errors if e.path == path and message in e.message]
    assert matching, result.errors
    assert matching[0].line == line


def test_the_section_defaults_are_the_originals():
    result = validate("", "size:\n  m: 0\n")
    assert result.ok, result.errors
    sizes = result.plugins.section("size")
    assert (sizes.s, sizes.m, sizes.l, sizes.xl, sizes.xxl) == (10, 30, 100, 500, 1000)
