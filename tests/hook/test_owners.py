"""OWNERS files read through the real GitHub client, over HTTP, from the fake."""

import re
import textwrap
import uuid

import pytest

from hook.owners import OwnersReader, parse_aliases, parse_owners
from prow.github import transport
from prow.github.client import github_client

CONTENTS = re.compile(r"^/repos/org/repo/contents/")


@pytest.fixture(autouse=True)
def _own_cache(private_cache, monkeypatch):
    """OWNERS files are cached by SHA: a cache of this test's own, and no real waits."""
    monkeypatch.setattr(transport, "_sleep", lambda seconds: None)


def new_sha() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex[:8]


@pytest.fixture
def fake(fake_github):
    fake_github.add_repo("org", "repo")
    return fake_github


@pytest.fixture
def sha():
    return new_sha()


@pytest.fixture
def files(fake, sha):
    """files({"path": "yaml", ...}): the repository's files at sha."""

    def put(mapping: dict[str, str], at: str | None = None) -> None:
        for path, text in mapping.items():
            fake.set_file("org", "repo", path, textwrap.dedent(text), ref=at or sha)

    return put


@pytest.fixture
def reader(fake, sha):
    return lambda **kwargs: OwnersReader(
        github_client("org"), "org", "repo", sha, **kwargs
    )


def content_requests(fake):
    return fake.requests("GET", CONTENTS)


# -------------------------------------------------------------- inheritance


def test_a_files_owners_are_its_directorys_and_every_parents(files, reader):
    files(
        {
            "OWNERS": "approvers: [root-approver]\nreviewers: [root-reviewer]\n",
            "pkg/OWNERS": "approvers: [pkg-approver]\nlabels: [area/pkg]\n",
            "pkg/util/sub/OWNERS": "reviewers: [sub-reviewer]\n",
        }
    )
    owners = reader().owners_of("pkg/util/sub/deep/file.go")
    assert owners.approvers == {"root-approver", "pkg-approver"}
    assert owners.reviewers == {"root-reviewer", "sub-reviewer"}
    assert owners.labels == {"area/pkg"}
    assert reader().owners_of("README.md").approvers == {"root-approver"}
    assert reader().owners_of("docs/guide.md").approvers == {"root-approver"}


def test_an_owners_file_owns_itself(files, reader):
    files({"OWNERS": "approvers: [root]\n", "pkg/OWNERS": "approvers: [pkg]\n"})
    assert reader().approvers("pkg/OWNERS") == {"root", "pkg"}


def test_no_parent_owners_stops_the_inheritance(files, reader):
    files(
        {
            "OWNERS": "approvers: [root]\n",
            "vendor/OWNERS": (
                "options:\n  no_parent_owners: true\napprovers: [vendor-owner]\n"
            ),
            "vendor/lib/OWNERS": "approvers: [lib-owner]\n",
        }
    )
    r = reader()
    assert r.approvers("vendor/lib/x.go") == {"lib-owner", "vendor-owner"}
    assert r.approvers("vendor/x.go") == {"vendor-owner"}
    assert r.approvers("main.go") == {"root"}
    assert r.is_approver("root", ["main.go"])
    assert not r.is_approver("root", ["vendor/lib/x.go"])
    assert r.file_at("vendor").no_parent_owners is True
    assert r.file_at("").no_parent_owners is False


def test_leaf_approvers_and_the_approvers_directory_are_the_nearest(files, reader):
    files(
        {
            "OWNERS": "approvers: [root]\n",
            "pkg/OWNERS": "approvers: [pkg]\n",
            "pkg/api/OWNERS": "reviewers: [api-reviewer]\n",
        }
    )
    r = reader()
    # pkg/api/OWNERS has no approvers: pkg/OWNERS is the one to satisfy.
    assert r.leaf_approvers("pkg/api/types.go") == {"pkg"}
    assert r.approvers_directory("pkg/api/types.go") == "pkg"
    assert r.approvers_directory("cmd/main.go") == ""
    assert r.leaf_approvers("cmd/main.go") == {"root"}


def test_auto_approve_unowned_subfolders_is_read(files, reader):
    files({"OWNERS": "options:\n  auto_approve_unowned_subfolders: true\n"})
    assert reader().file_at("").auto_approve_unowned_subfolders is True


# ---------------------------------------------------------- names, aliases


def test_logins_are_case_insensitive_and_may_carry_an_at(files, reader):
    files({"OWNERS": "approvers: [Alice, '@Bob']\nreviewers: ['@CAROL']\n"})
    r = reader()
    assert r.approvers("a.go") == {"alice", "bob"}
    assert r.reviewers("a.go") == {"carol"}
    for login in ("alice", "ALICE", "Alice", "@alice", "Bob", "@BOB"):
        assert r.is_approver(login, ["a.go"]), login
    assert not r.is_approver("carol", ["a.go"])


def test_aliases_expand_case_insensitively(files, reader):
    files(
        {
            "OWNERS_ALIASES": """\
                aliases:
                  Sig-Node-Approvers: [NodeLead, '@node-second']
                  nested: [sig-node-approvers]
                  empty:
            """,
            "OWNERS": "approvers: [sig-node-approvers, '@Nested', empty, solo]\n",
        }
    )
    r = reader()
    # Not recursive, as in the original: "nested" names the alias itself.
    assert r.approvers("x") == {"nodelead", "node-second", "sig-node-approvers", "solo"}
    assert r.is_approver("NODELEAD", ["x"])
    assert r.aliases["empty"] == set()


def test_a_broken_aliases_file_leaves_names_as_logins(files, reader):
    files({"OWNERS_ALIASES": "aliases: [unclosed\n", "OWNERS": "approvers: [team]\n"})
    assert reader().approvers("x") == {"team"}


def test_parse_aliases_skips_malformed_entries():
    aliases = parse_aliases("aliases:\n  good: [A]\n  bad: notalist\n  odd: [{x: 1}]\n")
    assert aliases == {"good": {"a"}}
    assert parse_aliases("- just\n- a list\n") == {}
    assert parse_aliases(None) == {}


# ---------------------------------------------------------- is_approver


def test_is_approver_needs_every_path(files, reader):
    files(
        {
            "OWNERS": "approvers: [root]\n",
            "a/OWNERS": "approvers: [a-owner]\n",
            "b/OWNERS": "approvers: [b-owner]\n",
        }
    )
    r = reader()
    assert r.is_approver("a-owner", ["a/1.go", "a/sub/2.go"])
    assert not r.is_approver("a-owner", ["a/1.go", "b/1.go"])
    assert r.is_approver("root", ["a/1.go", "b/1.go", "c.md"])
    assert r.is_approver("root", iter(["a/1.go"]))
    assert not r.is_approver("root", [])
    assert not r.is_approver("", ["a/1.go"])


def test_top_level_approvers_are_the_root_files(files, reader):
    files({"OWNERS": "approvers: [Root]\n", "pkg/OWNERS": "approvers: [pkg]\n"})
    assert reader().top_level_approvers() == {"root"}


# -------------------------------------------------- missing and broken files


def test_a_repository_without_owners_files_has_no_owners(fake, reader):
    r = reader()
    assert r.owners_of("a/b/c.go").approvers == set()
    assert not r.is_approver("anyone", ["a/b/c.go"])
    assert r.top_level_approvers() == set()
    assert r.file_at("a") is None
    assert r.approvers_directory("a/b/c.go") == ""


@pytest.mark.parametrize(
    "broken",
    [
        "approvers: [alice\n",  # unclosed flow sequence
        "approvers:\n  - alice\n bad-indent: x\n",
        "approvers:\n\t- alice\n",  # a tab where YAML wants spaces
        "- just\n- a list\n",
        "just a string\n",
        "approvers: alice\n",  # not a list: not five one-letter logins
        "approvers: [[alice]]\n",
        "approvers: [alice]\noptions: yes-please\n",
        "approvers: [alice]\noptions:\n  no_parent_owners: maybe\n",
        "filters: [alice]\n",
        "filters:\n  '.*': [alice]\n",
    ],
)
def test_a_broken_owners_file_gives_no_owners_and_no_error(files, reader, broken):
    files({"OWNERS": "approvers: [root]\n", "pkg/OWNERS": broken})
    r = reader()
    assert r.approvers("pkg/x.go") == {"root"}
    assert not r.is_approver("a", ["pkg/x.go"])
    assert not r.is_approver("alice", ["pkg/x.go"])


def test_a_file_with_a_bad_list_still_keeps_its_options(files, reader):
    # The original falls back to reading such a file for options and filters.
    files(
        {
            "OWNERS": "approvers: [root]\n",
            "pkg/OWNERS": "approvers: alice\noptions: {no_parent_owners: true}\n",
        }
    )
    assert reader().approvers("pkg/x.go") == set()


def test_an_empty_owners_file_is_no_owners_file(files, reader):
    files({"OWNERS": "approvers: [root]\n", "pkg/OWNERS": ""})
    assert reader().approvers("pkg/x.go") == {"root"}


# ------------------------------------------------------------------ filters


def test_filters_give_owners_to_matching_paths(files, reader):
    files(
        {
            "OWNERS": r"""
                filters:
                  ".*":
                    approvers: [root]
                  '\.go$':
                    approvers: [gopher]
                    labels: [language/go]
                  "^docs/":
                    reviewers: [writer]
                    labels: [area/docs]
            """,
        }
    )
    r = reader()
    assert r.approvers("cmd/main.go") == {"root", "gopher"}
    assert r.approvers("setup.py") == {"root"}
    assert r.labels("cmd/main.go") == {"language/go"}
    assert r.reviewers("docs/index.md") == {"writer"}
    assert r.labels("docs/index.md") == {"area/docs"}
    # "^docs/" is anchored at the OWNERS file's directory (the root here).
    assert r.reviewers("site/docs/index.md") == set()
    assert r.is_approver("gopher", ["a.go", "b/c.go"])
    assert not r.is_approver("gopher", ["a.go", "README.md"])
    # Only ".*" applies to the repository as a whole.
    assert r.top_level_approvers() == {"root"}


def test_filters_match_paths_relative_to_the_owners_files_directory(files, reader):
    files(
        {
            "OWNERS": "approvers: [root]\n",
            "pkg/OWNERS": r"""
                filters:
                  '^[^/]*_test\.go$':
                    approvers: [tester]
                  "^api/":
                    approvers: [api-owner]
            """,
        }
    )
    r = reader()
    assert r.approvers("pkg/foo_test.go") == {"tester", "root"}
    assert r.approvers("pkg/foo.go") == {"root"}
    assert r.approvers("pkg/sub/foo_test.go") == {"root"}
    assert r.approvers("pkg/api/v1/types.go") == {"api-owner", "root"}
    # The same relative path outside pkg/ is not pkg/OWNERS's business.
    assert r.approvers("api/v1/types.go") == {"root"}
    assert r.approvers_directory("pkg/foo_test.go") == "pkg"
    assert r.approvers_directory("pkg/foo.go") == ""
    assert r.leaf_approvers("pkg/api/x.go") == {"api-owner"}


def test_a_filter_may_match_anywhere_in_the_relative_path(files, reader):
    # The original uses Go's MatchString: unanchored patterns search.
    files({"OWNERS": "filters:\n  'generated':\n    approvers: [bot-owner]\n"})
    assert reader().approvers("pkg/zz_generated.deepcopy.go") == {"bot-owner"}


def test_filters_take_aliases_options_and_case_insensitive_logins(files, reader):
    files(
        {
            "OWNERS_ALIASES": "aliases:\n  go-team: [Gopher, '@Other']\n",
            "OWNERS": "approvers: [root]\n",
            "pkg/OWNERS": r"""
                options:
                  no_parent_owners: true
                filters:
                  '\.go$':
                    approvers: [Go-Team]
            """,
        }
    )
    r = reader()
    assert r.approvers("pkg/a.go") == {"gopher", "other"}
    assert r.approvers("pkg/a.md") == set()
    assert r.is_approver("GOPHER", ["pkg/a.go"])


def test_an_invalid_filter_pattern_costs_only_that_filter(files, reader):
    files(
        {
            "OWNERS": r"""
                filters:
                  "([unclosed":
                    approvers: [nobody]
                  '\.go$':
                    approvers: [gopher]
            """,
        }
    )
    assert reader().approvers("a.go") == {"gopher"}


def test_top_level_lists_make_a_simple_file_whose_filters_are_ignored(files, reader):
    # As in the original: such a file parses as a simple OWNERS file.
    files(
        {
            "OWNERS": r"""
                approvers: [root]
                filters:
                  '\.go$':
                    approvers: [gopher]
            """,
        }
    )
    assert reader().approvers("a.go") == {"root"}


def test_parse_owners_keeps_filters_separate_from_unfiltered_owners():
    parsed = parse_owners(
        'filters:\n  ".*": {approvers: [all]}\n  "x": {approvers: [some]}\n', {}
    )
    assert parsed.approvers == {"all"}
    assert parsed.owners_for("x.go").approvers == {"all", "some"}
    assert parsed.owners_for("y.go").approvers == {"all"}


# ------------------------------------------------------------------ caching


def test_files_are_read_once_per_sha(fake, files, reader, sha):
    files(
        {
            "OWNERS_ALIASES": "aliases:\n  team: [alice]\n",
            "OWNERS": "approvers: [team]\n",
            "pkg/OWNERS": "approvers: [bob]\n",
        }
    )
    assert reader().approvers("pkg/sub/x.go") == {"alice", "bob"}
    first = len(content_requests(fake))
    # pkg/sub/OWNERS, pkg/OWNERS, OWNERS and OWNERS_ALIASES; the missing
    # one is asked about too.
    assert first == 4
    again = reader()
    assert again.approvers("pkg/sub/x.go") == {"alice", "bob"}
    assert again.is_approver("alice", ["pkg/sub/y.go"])
    assert len(content_requests(fake)) == first


def test_another_sha_is_read_afresh(fake, files, reader, sha):
    files({"OWNERS": "approvers: [old]\n"})
    assert reader().approvers("x") == {"old"}
    later = new_sha()
    files({"OWNERS": "approvers: [new]\n"}, at=later)
    before = len(content_requests(fake))
    r = OwnersReader(github_client("org"), "org", "repo", later)
    assert r.approvers("x") == {"new"}
    assert len(content_requests(fake)) > before
    assert reader().approvers("x") == {"old"}


def test_one_reader_asks_for_each_file_once(fake, files, reader):
    files({"OWNERS": "approvers: [root]\n"})
    r = reader()
    for path in ("a/1.go", "a/2.go", "a/b/3.go", "c.go"):
        r.approvers(path)
    paths = [request.path for request in content_requests(fake)]
    assert len(paths) == len(set(paths))


def test_for_branch_reads_at_the_branch_tip(fake, files):
    tip = new_sha()
    fake.add_branch("org", "repo", "release-1.0", tip)
    files({"OWNERS": "approvers: [release-manager]\n"}, at=tip)
    r = OwnersReader.for_branch(github_client("org"), "org", "repo", "release-1.0")
    assert r.sha == tip
    assert r.approvers("x.go") == {"release-manager"}
    assert fake.requests("GET", "/repos/org/repo/contents/OWNERS")[0].query == {
        "ref": tip
    }


# ------------------------------------------------------------ other options


def test_collaborators_restrict_approvers_and_reviewers(files, reader):
    files({"OWNERS": "approvers: [alice, bob]\nreviewers: [carol, Dave]\n"})
    r = reader(collaborators=["Alice", "dave"])
    assert r.approvers("x") == {"alice"}
    assert r.reviewers("x") == {"dave"}
    assert not r.is_approver("bob", ["x"])


def test_other_file_names_can_be_configured(files, reader):
    files(
        {
            "OWNERS": "approvers: [wrong]\n",
            "OWNERS.prow": "approvers: [team]\n",
            "ALIASES.prow": "aliases:\n  team: [right]\n",
        }
    )
    r = reader(owners_filename="OWNERS.prow", aliases_filename="ALIASES.prow")
    assert r.approvers("x") == {"right"}
