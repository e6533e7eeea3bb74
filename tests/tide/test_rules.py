"""Tide's rules as plain functions: queries, context policy, merge method,
commit templates, and how the next batch is picked."""

import pytest

from prow.config.schema import Presubmit, ProwConfig, Tide
from tide import merging, queries
from tide.contexts import context_policy, required_jobs
from tide.pools import batch_size_limit, pick_batch, priority_of
from tide.types import Context, TidePull

SPEC = {"containers": [{"image": "a"}]}


def pull(number=1, **fields) -> TidePull:
    values = {
        "org": "acme",
        "repo": "app",
        "number": number,
        "author": "dev",
        "title": f"Change {number}",
        "head_ref": f"topic-{number}",
        "head_sha": f"{number:040x}",
        "base_ref": "main",
        "base_sha": "b" * 40,
        "labels": ("lgtm", "approved"),
    }
    values.update(fields)
    return TidePull(**values)


def config(**tide) -> ProwConfig:
    return ProwConfig.model_validate({"tide": tide})


QUERY = {
    "repos": ["acme/app"],
    "labels": ["lgtm", "approved"],
    "missingLabels": ["do-not-merge/hold", "needs-rebase"],
}


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({}, ""),
        ({"labels": ("lgtm",)}, "Needs approved label."),
        ({"labels": ()}, "Needs approved, lgtm labels."),
        (
            {"labels": ("lgtm", "approved", "needs-rebase")},
            "Should not have needs-rebase label.",
        ),
        (
            {"labels": ("lgtm", "approved", "needs-rebase", "do-not-merge/hold")},
            "Should not have do-not-merge/hold, needs-rebase labels.",
        ),
    ],
)
def test_the_closest_query_says_what_is_missing(fields, why):
    assert queries.closest_unmet(config(queries=[QUERY]), pull(**fields)) == why


def test_a_wrong_branch_weighs_more_than_a_missing_label():
    first = {**QUERY, "includedBranches": ["release"]}
    second = {**QUERY, "labels": ["lgtm", "approved", "cherry-pick-approved"]}
    found = queries.closest_unmet(config(queries=[first, second]), pull())
    assert found == "Needs cherry-pick-approved label."


def test_alternative_labels_and_the_other_conditions():
    query = {
        "orgs": ["acme"],
        "excludedRepos": ["acme/legacy"],
        "labels": ["lgtm,approved"],
        "author": "bot",
        "milestone": "v1",
        "reviewApprovedRequired": True,
    }
    tide = config(queries=[query])
    assert queries.matches(
        tide,
        pull(
            labels=("approved",),
            author="bot",
            milestone="v1",
            review_decision="APPROVED",
        ),
    )
    assert queries.closest_unmet(tide, pull(labels=())) == "Must be by author bot."
    assert not queries.in_scope(tide, "acme", "legacy")
    assert queries.scope_terms(tide) == ['org:"acme"']


def test_scope_terms_name_each_org_once_and_repos_outside_them():
    tide = config(
        queries=[
            {"orgs": ["acme"], "repos": ["other/one"]},
            {"repos": ["acme/app", "other/one", "third/x"]},
        ]
    )
    assert queries.scope_terms(tide) == [
        'org:"acme"',
        'repo:"other/one"',
        'repo:"third/x"',
    ]


def test_the_context_policy_merges_levels_and_adds_prow_jobs():
    options = Tide.model_validate(
        {
            "context_options": {
                "skip-unknown-contexts": True,
                "from-branch-protection": True,
                "required-contexts": ["everywhere"],
                "orgs": {
                    "acme": {
                        "repos": {
                            "app": {
                                "required-contexts": ["repo-wide"],
                                "optional-regex-contexts": ["^experimental/"],
                                "branches": {
                                    "main": {
                                        "from-branch-protection": False,
                                        "skip-unknown-contexts": False,
                                        "optional-contexts": ["flaky"],
                                    }
                                },
                            }
                        }
                    }
                },
            }
        }
    ).context_options
    jobs = [
        Presubmit(name="unit", always_run=True, spec=SPEC),
        Presubmit(name="docs", run_if_changed=r"^docs/", spec=SPEC),
        Presubmit(name="lint", always_run=True, optional=True, spec=SPEC),
        Presubmit(name="other", always_run=True, branches=["release"], spec=SPEC),
    ]
    policy = context_policy(
        options, "acme", "app", "main", presubmits=jobs, protected_contexts=["prot"]
    )
    assert policy.required == {"everywhere", "repo-wide", "unit"}
    assert policy.required_if_present == {"docs"}
    assert policy.is_optional("flaky") and policy.is_optional("lint")
    assert policy.is_optional("experimental/arm") and policy.is_optional("tide")
    # Unknown contexts count on main, where skip-unknown-contexts is off.
    assert not policy.is_optional("unknown")
    assert policy.missing([Context("unit", "success")]) == ["everywhere", "repo-wide"]
    release = context_policy(
        options, "acme", "app", "release", presubmits=jobs, protected_contexts=["prot"]
    )
    assert "prot" in release.required and release.is_optional("unknown")
    assert "other" in release.required


def test_required_jobs_follow_branches_and_changed_files():
    jobs = [
        Presubmit(name="unit", always_run=True, spec=SPEC),
        Presubmit(name="docs", run_if_changed=r"^docs/", spec=SPEC),
        Presubmit(name="manual", spec=SPEC),
        Presubmit(name="gate", run_before_merge=True, spec=SPEC),
        Presubmit(name="opt", always_run=True, optional=True, spec=SPEC),
    ]
    names = [j.name for j in required_jobs(jobs, "main", ["src/a.go"])]
    assert names == ["unit", "gate"]
    names = [j.name for j in required_jobs(jobs, "main", ["docs/x.md"])]
    assert names == ["unit", "docs", "gate"]


@pytest.mark.parametrize(
    ("methods", "branch", "expected"),
    [
        ({}, "main", "merge"),
        ({"acme": "rebase"}, "main", "rebase"),
        ({"acme": "rebase", "acme/app": "squash"}, "main", "squash"),
        ({"acme": {"app": "squash"}}, "main", "squash"),
        (
            {"acme": {"app": {"release-.*": "rebase", "main": "squash"}}},
            "release-1",
            "rebase",
        ),
        ({"acme/app": "squash", "acme/app@main": "merge"}, "main", "merge"),
        (
            {"acme": {"app": {"release-.*": "rebase"}}, "acme/app": "squash"},
            "main",
            "squash",
        ),
    ],
)
def test_merge_method_precedence(methods, branch, expected):
    tide = Tide.model_validate({"merge_method": methods})
    assert merging.configured_method(tide, "acme", "app", branch) == expected


def test_merge_labels_override_and_conflict():
    tide = Tide.model_validate(
        {"squash_label": "squash-me", "rebase_label": "rebase-me"}
    )
    assert merging.merge_method(tide, pull(labels=("squash-me",))) == ("squash", "")
    _, problem = merging.merge_method(tide, pull(labels=("squash-me", "rebase-me")))
    assert problem == "PR has conflicting merge method override labels"
    _, problem = merging.merge_method(
        tide, pull(labels=("rebase-me",), can_be_rebased=False)
    )
    assert problem == "PR can't be rebased"


def test_commit_templates_fill_the_pull_requests_fields():
    tide = Tide.model_validate(
        {
            "merge_commit_template": {
                "acme/app": {
                    "title": "{{ .Title }} (#{{ .Number }})",
                    "body": "{{ .Body }}\n{{ .Unknown }}",
                }
            }
        }
    )
    fields = merging.commit_fields(tide, pull(body="Details"))
    assert fields == {
        "commit_title": "Change 1 (#1)",
        "commit_message": "Details\n{{ .Unknown }}",
    }


def _keys(*numbers):
    return frozenset((n, f"{n:040x}") for n in numbers)


def test_a_batch_is_the_first_candidates_up_to_the_limit():
    candidates = [pull(n) for n in range(1, 8)]
    assert [p.number for p in pick_batch(candidates, 3, [])] == [1, 2, 3]
    assert [p.number for p in pick_batch(candidates, 0, [])] == list(range(1, 8))


def test_a_failed_batch_is_halved_and_never_run_again():
    candidates = [pull(n) for n in range(1, 5)]
    assert [p.number for p in pick_batch(candidates, 0, [_keys(1, 2, 3, 4)])] == [1, 2]
    failed = [_keys(1, 2, 3, 4), _keys(1, 2)]
    # Down to one: no batch, the single pull request is retested alone.
    assert pick_batch(candidates, 0, failed) == []
    # A newcomer does not hide the failed batch inside a bigger one.
    more = candidates + [pull(5)]
    assert [p.number for p in pick_batch(more, 0, [_keys(1, 2, 3, 4)])] == [1, 2]
    # A pull request pushed to since is a different member.
    moved = [pull(1, head_sha="f" * 40)] + candidates[1:]
    assert len(pick_batch(moved, 0, [_keys(1, 2, 3, 4)])) == 4


def test_batch_limits_and_priorities():
    tide = config(
        batch_size_limit={"*": 5, "acme": 3, "acme/app": -1},
        priority=[{"labels": ["urgent"]}, {"labels": ["kind/bug,kind/regression"]}],
    )
    assert batch_size_limit(tide, "acme", "app") == -1
    assert batch_size_limit(tide, "acme", "web") == 3
    assert batch_size_limit(tide, "other", "x") == 5
    assert priority_of(tide, pull(labels=("urgent",))) == 0
    assert priority_of(tide, pull(labels=("kind/regression",))) == 1
    assert priority_of(tide, pull(labels=())) == 2
