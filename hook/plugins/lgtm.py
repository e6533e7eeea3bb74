"""lgtm: `/lgtm` puts the `lgtm` label on a pull request, `/lgtm cancel` and
`/remove-lgtm` take it off; with `review_acts_as_lgtm`, approving a review
or requesting changes does the same. A new push takes the label off again
unless nothing in the code changed (`store_tree_hash`) or the author is in
the team whose LGTMs are sticky.

Who may change it: collaborators of the repository (a collaborator who is not
an assignee yet is assigned); in `skip_collaborators` repos of the `owners`
section, reviewers and approvers in the OWNERS files of the changed files.
The author may take it off but never put it on.
"""

import re
from dataclasses import dataclass

from hook.commands import command_text
from hook.events import (
    GENERIC_COMMENT,
    GenericComment,
    PullRequestEvent,
    ReviewEvent,
    generic_comment,
)
from hook.owners import OWNERS_SECTION, OwnersConfig, OwnersReader, norm_login
from hook.plugins.base import Command, Plugin, PluginContext
from prow.config.plugin_sections import PluginSection, SectionReport, Shape
from prow.config.plugins_schema import RepoScoped
from prow.errors import TransientError
from prow.github.client import GitHubError
from prow.github.types import Comment, PullRequest

LABEL = "lgtm"
LGTM = re.compile(r"(?mi)^/lgtm(?: no-issue)?\s*$")
LGTM_CANCEL = re.compile(r"(?mi)^/(remove-lgtm|lgtm cancel)\s*$")

# The original's words, matched on purpose: people and tools know them.
SELF_LGTM = "you cannot LGTM your own PR."
NOT_COLLABORATOR = "changing LGTM is restricted to collaborators"
NOT_IN_OWNERS = "adding LGTM is restricted to approvers and reviewers in OWNERS files."
TREE_HASH_NOTE = "LGTM label has been added.  <details>Git tree hash: {}</details>"
TREE_HASH_RE = re.compile(
    r"LGTM label has been added\.  <details>Git tree hash: (.*)</details>"
)
REMOVED_NOTE = "New changes are detected. LGTM label has been removed."
# An HTML comment is invisible on GitHub; it tells a retried push event
# that its note is already there.
REMOVED_MARKER = "<!-- lgtm removed for {} -->"


class LgtmConfig(RepoScoped):
    review_acts_as_lgtm: bool = False
    store_tree_hash: bool = False
    trusted_team_for_sticky_lgtm: str = ""


_TEAM_SLUG = re.compile(r"^[A-Za-z0-9._-]+$")


def _check(entries: list[LgtmConfig], report: SectionReport) -> None:
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if not entry.repos:
            report.warning((index,), "names no repos in `repos`, so it applies nowhere")
        for rindex, name in enumerate(entry.repos):
            parts = name.split("/")
            if len(parts) > 2 or not all(parts):
                report.error(
                    (index, "repos", rindex),
                    f"{name!r} is neither an org nor an org/repo",
                )
            elif name in seen:
                report.warning(
                    (index, "repos", rindex),
                    f"{name} is already named by entry {seen[name]}, "
                    "which is the one that applies",
                )
            else:
                seen[name] = index
        team = entry.trusted_team_for_sticky_lgtm
        if team and not _TEAM_SLUG.match(team):
            report.error(
                (index, "trusted_team_for_sticky_lgtm"),
                f"{team!r} is not a team slug (letters, digits, '.', '_', '-')",
            )


SECTION = PluginSection("lgtm", LgtmConfig, Shape.REPO_LIST, _check)


def settings(ctx: PluginContext) -> LgtmConfig:
    return ctx.plugins.section(SECTION.key, ctx.org, ctx.repo)


# Commands and reviews -----------------------------------------------------------


@dataclass
class _Request:
    """One wish to change LGTM: a comment, or a review acting as one."""

    ctx: PluginContext
    comment: GenericComment
    want: bool
    config: LgtmConfig
    _pull: PullRequest | None = None

    @property
    def number(self) -> int:
        return self.comment.number

    def pull(self) -> PullRequest:
        if self._pull is None:
            c = self.comment
            self._pull = self.ctx.github.get_pull(c.org, c.repo, c.number)
        return self._pull


def handle_generic_comment(ctx: PluginContext, comment: GenericComment) -> None:
    if (
        comment.action != "created"
        or not comment.is_pr
        or comment.issue_state != "open"
    ):
        return
    text = comment.command_text
    # A comment saying both is read as /lgtm, as the original reads it.
    if LGTM.search(text):
        want = True
    elif LGTM_CANCEL.search(text):
        want = False
    else:
        return
    _handle(_Request(ctx, comment, want, settings(ctx)))


def handle_review(ctx: PluginContext, event: ReviewEvent) -> None:
    config = settings(ctx)
    if not config.review_acts_as_lgtm or event.action != "submitted":
        return
    review = event.review
    reviewer = (event.payload.get("review") or {}).get("user") or {}
    if ctx.github.is_bot(review.user) or reviewer.get("type") == "Bot":
        return
    # The comment handler acts on a review whose text is a command.
    text = command_text(review.body)
    if LGTM.search(text) or LGTM_CANCEL.search(text):
        return
    if review.state == "APPROVED":
        want = True
    elif review.state == "CHANGES_REQUESTED":
        want = False
    else:
        return
    comment = generic_comment(event)
    if comment is None or comment.issue_state != "open":
        return
    _handle(_Request(ctx, comment, want, config, event.pull))


def _handle(request: _Request) -> None:
    ctx, comment, want = request.ctx, request.comment, request.want
    user = comment.user
    is_author = user.lower() == comment.issue_author.lower()
    if is_author and want:
        ctx.reply(comment, SELF_LGTM)
        return
    if not is_author:
        if _skips_collaborators(ctx):
            if not _in_owners(request, user):
                ctx.reply(comment, NOT_IN_OWNERS)
                return
        else:
            if not ctx.github.is_collaborator(ctx.org, ctx.repo, user):
                ctx.reply(comment, NOT_COLLABORATOR)
                return
            _assign(ctx, request.number, user)

    has_label = ctx.has_label(request.number, LABEL)
    if has_label and not want:
        _remove(request)
    elif want and not has_label:
        _add(request)


def _assign(ctx: PluginContext, number: int, login: str) -> None:
    """Assigning only records who reviewed: a refusal must not stop it."""
    try:
        ctx.assign(number, login)
    except GitHubError as exc:
        if isinstance(exc, TransientError):
            raise
        ctx.logger.info("could not assign %s to #%s: %s", login, number, exc)


def _owners(ctx: PluginContext) -> OwnersConfig:
    return ctx.plugins.section(OWNERS_SECTION.key)


def _skips_collaborators(ctx: PluginContext) -> bool:
    return _owners(ctx).skips_collaborators(ctx.org, ctx.repo)


def _in_owners(request: _Request, login: str) -> bool:
    """Whether login reviews or approves any of the changed files, by the
    OWNERS files of the base branch."""
    ctx, pull = request.ctx, request.pull()
    owners_filename, aliases_filename = _owners(ctx).filenames_for(ctx.org, ctx.repo)
    reader = OwnersReader.for_branch(
        ctx.github,
        ctx.org,
        ctx.repo,
        pull.base_ref,
        owners_filename=owners_filename,
        aliases_filename=aliases_filename,
    )
    login = norm_login(login)
    for change in ctx.github.pull_changes(ctx.org, ctx.repo, pull.number):
        owners = reader.owners_of(change.filename)
        if login in owners.reviewers or login in owners.approvers:
            return True
    return False


def _add(request: _Request) -> None:
    ctx, number = request.ctx, request.number
    ctx.add_labels(number, LABEL)
    if _sticky(ctx, request.config, request.comment.issue_author):
        return
    comments = ctx.bot_comments(number)
    if request.config.store_tree_hash:
        pull = request.pull()
        tree = ctx.github.commit_tree_sha(ctx.org, ctx.repo, pull.head_sha)
        # A retried delivery finds its note already there.
        if _last_tree_hash(comments) != tree:
            ctx.comment(number, TREE_HASH_NOTE.format(tree))
    ctx.prune_comments(number, lambda body: REMOVED_NOTE in body, comments)


def _remove(request: _Request) -> None:
    ctx, number, config = request.ctx, request.number, request.config
    ctx.remove_labels(number, LABEL)
    if config.store_tree_hash:
        _request_reviews(ctx, number, request.comment.assignees)
        ctx.prune_comments(number, lambda body: TREE_HASH_RE.search(body) is not None)


def _request_reviews(ctx: PluginContext, number: int, logins) -> None:
    """The assignees are asked to look again, as the LGTM is gone."""
    if logins:
        ctx.request_review(number, *logins)


def _sticky(ctx: PluginContext, config: LgtmConfig, author: str) -> bool:
    team = config.trusted_team_for_sticky_lgtm
    if not (team and author):
        return False
    try:
        return ctx.is_team_member(team, author)
    except GitHubError as exc:
        if isinstance(exc, TransientError):
            raise  # an outage must not cost a sticky LGTM
        ctx.logger.warning("cannot read team %s of %s: %s", team, ctx.org, exc)
        return False


def _last_tree_hash(comments: list[Comment]) -> str:
    """The tree hash of the newest unedited tree-hash note: an edited one
    may not be the bot's word any more."""
    for comment in reversed(comments):
        found = TREE_HASH_RE.search(comment.body)
        if found and comment.updated_at == comment.created_at:
            return found.group(1)
    return ""


# Pushes -------------------------------------------------------------------------


def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    if event.action != "synchronize":
        return
    pull = event.pull
    if pull.merged or not ctx.has_label(pull.number, LABEL):
        return
    config = settings(ctx)
    if _sticky(ctx, config, pull.author):
        return
    comments: list[Comment] | None = None
    if config.store_tree_hash:
        comments = ctx.bot_comments(pull.number)
        kept = _last_tree_hash(comments)
        if kept and kept == ctx.github.commit_tree_sha(
            ctx.org, ctx.repo, pull.head_sha
        ):
            return  # squashed or rebased: the code is what was approved
    ctx.remove_labels(pull.number, LABEL)
    if config.store_tree_hash:
        _request_reviews(ctx, pull.number, pull.assignees)
    if comments is None:
        comments = ctx.bot_comments(pull.number)
    marker = REMOVED_MARKER.format(pull.head_sha)
    if not any(marker in c.body for c in comments):
        ctx.comment(pull.number, f"{REMOVED_NOTE}\n{marker}")


plugin = Plugin(
    name="lgtm",
    description=(
        "The lgtm plugin manages the application and removal of the 'lgtm' "
        "(Looks Good To Me) label which is typically used to gate merging. "
        "Where it differs from the original: trusted_team_for_sticky_lgtm "
        "names the team by its slug (the original matched its display name); "
        "when GitHub fails in a way that may pass, reading that team or "
        "assigning the reviewer is retried rather than ignored; the tree-hash "
        "note is not posted again when the newest one already holds the same "
        "tree; and the note that a push removed the label carries an "
        "invisible marker of the head commit, so one push is never noted "
        "twice."
    ),
    commands=(
        Command(
            pattern=LGTM,
            usage="/lgtm [no-issue] or a GitHub review that approves",
            description=(
                "Adds the 'lgtm' label which is typically used to gate merging."
            ),
            examples=(
                "/lgtm",
                '<a href="https://help.github.com/articles/about-pull-request-'
                "reviews/\">'Approve'</a>",
            ),
            who_can_use=(
                "Collaborators on the repository, other than the PR author; in "
                "repos that skip collaborators, reviewers and approvers in the "
                "OWNERS files of the changed files."
            ),
            featured=True,
        ),
        Command(
            pattern=LGTM_CANCEL,
            usage="/lgtm cancel, /remove-lgtm or a GitHub review requesting changes",
            description="Removes the 'lgtm' label.",
            examples=(
                "/lgtm cancel",
                "/remove-lgtm",
                '<a href="https://help.github.com/articles/about-pull-request-'
                "reviews/\">'Request Changes'</a>",
            ),
            who_can_use=("Those who may add it (see /lgtm), and the PR author."),
            featured=True,
        ),
    ),
    config=SECTION,
    config_help=(
        'lgtm: per repos, review_acts_as_lgtm (reviews of "approve" or '
        '"request changes" act as adding or removing LGTM), store_tree_hash '
        "(squashing commits does not remove LGTM), trusted_team_for_sticky_lgtm "
        "(commits from this team's members do not remove LGTM). In "
        "owners.skip_collaborators repos, OWNERS reviewers and approvers of the "
        "changed files may use /lgtm instead of collaborators."
    ),
    handlers={
        GENERIC_COMMENT: handle_generic_comment,
        "pull_request_review": handle_review,
        "pull_request": handle_pull_request,
    },
)
