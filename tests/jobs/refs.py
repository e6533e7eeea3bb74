"""The code a presubmit in these tests runs on: pull request 7 of acme/app
by member, on main."""

REFS = {
    "org": "acme",
    "repo": "app",
    "base_ref": "main",
    "base_sha": "b" * 40,
    "pulls": [{"number": 7, "author": "member", "sha": "a" * 40}],
}
