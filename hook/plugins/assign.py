"""assign: `/assign` and `/unassign` people to an issue or pull request,
`/cc` and `/uncc` to ask (or stop asking) for a pull request review.

Several logins may follow a command, with or without `@`; none means the
commenter. `/cc org/team` asks a team of the repository's org. People
GitHub will not assign or ask get one answer naming them.
"""

import re

from hook.events import GENERIC_COMMENT, GenericComment
from hook.plugins.base import Command, Plugin, PluginContext

ASSIGN = re.compile(r"(?mi)^/(un)?assign(( @?[-\w]+?)*)\s*$")
CC = re.compile(r"(?mi)^/(un)?cc(( +@?[-/\w]+?)*)\s*$")
GITHUB_HOST = "github.com"


def _wanted(pattern: re.Pattern, comment: GenericComment) -> tuple[list, list]:
    """(logins to add, logins to remove); the last command naming someone
    decides for them."""
    wanted: dict[str, tuple[str, bool]] = {}
    for match in pattern.finditer(comment.command_text):
        add = not match.group(1)
        names = [part.strip("@ ") for part in (match.group(2) or "").split(" ")]
        names = [name for name in names if name] or [comment.user]
        for name in names:
            wanted.pop(name.lower(), None)
            wanted[name.lower()] = (name, add)
    adds = [name for name, add in wanted.values() if add]
    removes = [name for name, add in wanted.values() if not add]
    return adds, removes


def _not_assigned_reply(org: str, logins: list[str]) -> str:
    return (
        f"GitHub didn't allow me to assign the following users: "
        f"{', '.join(logins)}.\n\n"
        f"Note that only [{org} members](https://{GITHUB_HOST}/orgs/{org}/people) "
        "with read permissions, repo collaborators and people who have commented "
        "on this issue/PR can be assigned. Additionally, issues/PRs can only have "
        "10 assignees at the same time.\n"
        "For more information please see [the contributor guide]"
        "(https://git.k8s.io/community/contributors/guide/first-contribution.md"
        "#issue-assignment-in-github)"
    )


def _not_requested_reply(org: str, logins: list[str]) -> str:
    return (
        f"GitHub didn't allow me to request PR reviews from the following users: "
        f"{', '.join(logins)}.\n\n"
        f"Note that only [{org} members](https://{GITHUB_HOST}/orgs/{org}/people) "
        "and repo collaborators can review this PR, and authors cannot review "
        "their own PRs."
    )


def _assign(ctx: PluginContext, comment: GenericComment) -> str | None:
    adds, removes = _wanted(ASSIGN, comment)
    number = comment.number
    if removes:
        ctx.unassign(number, *removes)
    if not adds:
        return None
    already = {login.lower() for login in comment.assignees}
    accepted = {login.lower() for login in ctx.assign(number, *adds)}
    left_out = [
        login
        for login in adds
        if login.lower() not in accepted and login.lower() not in already
    ]
    return _not_assigned_reply(ctx.org, left_out) if left_out else None


def _cc(ctx: PluginContext, comment: GenericComment) -> str | None:
    adds, removes = _wanted(CC, comment)
    if not adds and not removes:
        return None
    number = comment.number
    # Who is asked already, so that nobody asked before counts as refused.
    pull = ctx.github.get_pull(ctx.org, ctx.repo, number)
    ctx.know(number, requested_reviewers=pull.requested_reviewers)
    already = {login.lower() for login in pull.requested_reviewers}
    if removes:
        people = [login for login in removes if "/" not in login]
        teams = [login for login in removes if "/" in login]
        ctx.unrequest_review(number, *people)
        if teams:
            # Teams are not among the requested reviewers the event lists.
            ctx.github.unrequest_review(ctx.org, ctx.repo, number, teams)
    if not adds:
        return None
    asked = {login.lower() for login in ctx.request_review(number, *adds)}
    refused = [
        login
        for login in adds
        if login.lower() not in asked and login.lower() not in already
    ]
    return _not_requested_reply(ctx.org, refused) if refused else None


def handle_comment(ctx: PluginContext, comment: GenericComment) -> None:
    if comment.action != "created":
        return
    text = comment.command_text
    if not ASSIGN.search(text) and not (comment.is_pr and CC.search(text)):
        return
    answers = [_assign(ctx, comment)]
    if comment.is_pr:
        answers.append(_cc(ctx, comment))
    for answer in answers:
        if answer:
            ctx.reply_once(comment, answer)


plugin = Plugin(
    name="assign",
    description=(
        "The assign plugin assigns or requests reviews from users/teams. "
        "Specific users can be assigned with the command '/assign @user1' or "
        "have reviews requested of them with the command '/cc @user1'. If no "
        "users are specified, the commands default to targeting the user who "
        "created the command. Assignments and requested reviews can be removed "
        "in the same way that they are added by prefixing the commands with "
        "'un'. Unlike the original, a team of another org named in /cc is "
        "among the people the answer says GitHub refused, and an answer "
        "already given to a comment is not repeated when the comment is "
        "handled again."
    ),
    commands=(
        Command(
            pattern=ASSIGN,
            usage="/[un]assign [[@]<username>...|[@]<orgname/teamname>...]",
            description="Assigns assignee(s) or team(s) to the PR",
            examples=(
                "/assign",
                "/unassign",
                "/assign @spongebob",
                "/assign spongebob patrick",
                "/assign @kubernetes/sig-foo-bar",
            ),
            who_can_use=(
                "Anyone can use the command, but the target user(s) must be an "
                "org member, a repo collaborator, or should have previously "
                "commented on the issue or PR."
            ),
            featured=True,
        ),
        Command(
            pattern=CC,
            usage="/[un]cc [[@]<username>...|[@]<orgname/teamname>...]",
            description="Requests a review from the user(s) or team(s).",
            examples=(
                "/cc",
                "/uncc",
                "/cc @spongebob",
                "/cc spongebob patrick",
                "/cc @kubernetes/sig-foo-bar",
            ),
            who_can_use=(
                "Anyone can use the command, but the target user(s) must be a "
                "member of the org that owns the repository."
            ),
            featured=True,
        ),
    ),
    handlers={GENERIC_COMMENT: handle_comment},
)
