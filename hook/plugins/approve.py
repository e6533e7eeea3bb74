"""approve: the `approved` label, and the one [APPROVALNOTIFIER] comment that
says which OWNERS files still need an approver and whom to ask.

Nothing is remembered between events: each time, who has approved is
replayed from the pull request's whole history (comments, review comments
and reviews, oldest first), so a redelivered or retried event reaches the
same answer and changes nothing more. The notification is rewritten only
when its text changes, and a label a person put on by hand stays.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import field_validator

from hook.approvers import NOTIFIER, Approvers, ChangedFiles, notification
from hook.commands import parse_commands
from hook.events import GENERIC_COMMENT, GenericComment, PullRequestEvent, ReviewEvent
from hook.owners import OWNERS_SECTION, OwnersReader
from hook.plugins.base import Command, Plugin, PluginContext
from prow.config.plugin_sections import PluginSection, SectionReport, Shape
from prow.config.plugins_schema import RepoScoped
from prow.github.types import Comment, Review

LABEL = "approved"
APPROVE = "APPROVE"
REMOVE_APPROVE = "REMOVE-APPROVE"
LGTM = "LGTM"
CANCEL = "cancel"
NO_ISSUE = "no-issue"
COMMAND_HELP_LINK = "https://go.k8s.io/bot-commands"
PR_PROCESS_LINK = (
    "https://git.k8s.io/community/contributors/guide/owners.md#the-code-review-process"
)
# The bot's own notification, also as older versions of it titled it.
NOTIFICATION = re.compile(rf"(?is)^\[{NOTIFIER}\] *?([^\n]*)(?:\n\n(.*))?")
APPROVED, CHANGES_REQUESTED, DISMISSED = "APPROVED", "CHANGES_REQUESTED", "DISMISSED"
_EPOCH = datetime.min.replace(tzinfo=UTC)


class ApproveConfig(RepoScoped):
    issue_required: bool = False
    # Unset: the author of a pull request approves it implicitly.
    require_self_approval: bool | None = None
    lgtm_acts_as_approve: bool = False
    # Unset: an approving review approves, one requesting changes cancels.
    ignore_review_state: bool | None = None
    commandHelpLink: str = COMMAND_HELP_LINK
    pr_process_link: str = PR_PROCESS_LINK

    @field_validator("commandHelpLink", "pr_process_link", mode="before")
    @classmethod
    def _empty_is_default(cls, value, info):
        # The original fills in its default for an empty link too.
        if value == "":
            return cls.model_fields[info.field_name].default
        return value

    @property
    def self_approval(self) -> bool:
        return not self.require_self_approval

    @property
    def review_counts(self) -> bool:
        return not self.ignore_review_state


def _check(entries: list[ApproveConfig], report: SectionReport) -> None:
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        for rindex, name in enumerate(entry.repos):
            if name in seen:
                kind = "repo" if "/" in name else "org"
                report.error(
                    (index, "repos", rindex),
                    f"the {kind} {name!r} is named by another approve entry too; "
                    "only the first would apply",
                )
            seen.add(name)
        for key in ("commandHelpLink", "pr_process_link"):
            link = getattr(entry, key)
            if not link.startswith(("http://", "https://")):
                report.error((index, key), f"{link!r} is not an http(s) URL")


APPROVE_SECTION = PluginSection("approve", ApproveConfig, Shape.REPO_LIST, _check)


@dataclass(frozen=True)
class _Pull:
    """What the recomputation needs of the pull request."""

    number: int
    base_ref: str
    body: str
    author: str
    assignees: tuple[str, ...]
    html_url: str


@dataclass(frozen=True)
class _Said:
    """A comment, review comment or review, as the history replays it."""

    author: str
    body: str
    created_at: datetime
    html_url: str
    review_state: str = ""


# Recognising approvals -------------------------------------------------------------


def _names(body: str) -> list[str]:
    return [command.name.upper() for command in parse_commands(body)]


def is_approval_command(body: str, lgtm_acts_as_approve: bool) -> bool:
    wanted = {APPROVE, REMOVE_APPROVE} | ({LGTM} if lgtm_acts_as_approve else set())
    return any(name in wanted for name in _names(body))


def _counts(said: _Said, settings: ApproveConfig) -> bool:
    if is_approval_command(said.body, settings.lgtm_acts_as_approve):
        return True
    return settings.review_counts and said.review_state in (
        APPROVED,
        CHANGES_REQUESTED,
        DISMISSED,
    )


def _replay(approvers: Approvers, history: list[_Said], settings: ApproveConfig):
    """Each person's latest word counts: an approval, or its cancellation."""
    for said in history:
        if not said.author:
            continue
        if settings.review_counts and said.review_state == APPROVED:
            approvers.add(said.author, said.html_url, how="Approved")
        if settings.review_counts and said.review_state == CHANGES_REQUESTED:
            approvers.remove(said.author)
        for command in parse_commands(said.body):
            name = command.name.upper()
            if name == REMOVE_APPROVE:
                approvers.remove(said.author)
                continue
            if name != APPROVE and not (name == LGTM and settings.lgtm_acts_as_approve):
                continue
            args = command.args.lower()
            if CANCEL in args:
                approvers.remove(said.author)
                continue
            no_issue = args == NO_ISSUE
            how = "Approved" if name == APPROVE else "LGTM"
            approvers.add(said.author, said.html_url, how=how, no_issue=no_issue)


def associated_issue(body: str, org: str) -> int:
    found = re.search(rf"(?:{re.escape(org)}/[^/]+/issues/|#)(\d+)", body or "")
    return int(found.group(1)) if found else 0


# The recomputation -----------------------------------------------------------------


def _from_comment(comment: Comment) -> _Said:
    return _Said(
        comment.user, comment.body, comment.created_at or _EPOCH, comment.html_url
    )


def _from_review(review: Review) -> _Said:
    return _Said(
        review.user,
        review.body,
        review.submitted_at or _EPOCH,
        review.html_url,
        review.state,
    )


def _reader(ctx: PluginContext, base_ref: str) -> OwnersReader:
    owners = ctx.plugins.section(OWNERS_SECTION.key, ctx.org, ctx.repo)
    owners_filename, aliases_filename = owners.filenames_for(ctx.org, ctx.repo)
    collaborators = None
    if not owners.skips_collaborators(ctx.org, ctx.repo):
        collaborators = ctx.github.list_collaborators(ctx.org, ctx.repo)
    return OwnersReader.for_branch(
        ctx.github,
        ctx.org,
        ctx.repo,
        base_ref,
        owners_filename=owners_filename,
        aliases_filename=aliases_filename,
        collaborators=collaborators,
    )


def recompute(ctx: PluginContext, pull: _Pull) -> None:
    """Work out the pull request's approval from scratch and make the label
    and the notification say so."""
    settings: ApproveConfig = plugin.settings(ctx)
    gh, org, repo, number = ctx.github, ctx.org, ctx.repo, pull.number
    reader = _reader(ctx, pull.base_ref)
    changes = gh.pull_changes(org, repo, number)
    labels = gh.labels(org, repo, number)
    # Labels as they are now, not as the event said: a retry must see what
    # the first attempt already did.
    ctx.know(number, labels=labels)
    has_label = ctx.has_label(number, LABEL)
    comments = gh.list_comments(org, repo, number)
    review_comments = gh.list_review_comments(org, repo, number)
    reviews = gh.list_reviews(org, repo, number)

    app_bots = {r.user for r in reviews if r.user_type == "Bot"}

    def is_bot(login: str) -> bool:
        return login in app_bots or gh.is_bot(login)

    approvers = Approvers(ChangedFiles(reader, [c.filename for c in changes], number))
    approvers.associated_issue = associated_issue(pull.body, org)
    approvers.require_issue = settings.issue_required
    manual: list[bool] = []

    def manually_approved() -> bool:
        if not manual:
            manual.append(
                has_label and gh.label_added_by_human(org, repo, number, LABEL)
            )
        return manual[0]

    approvers.manually_approved = manually_approved
    if settings.self_approval and pull.author:
        approvers.add(pull.author, pull.html_url + "#", how="Author self-approved")

    history = [
        *map(_from_comment, review_comments),
        *map(_from_comment, comments),
        *map(_from_review, reviews),
    ]
    history.sort(key=lambda said: said.created_at)  # stable, as the original's
    history = [s for s in history if not is_bot(s.author) and _counts(s, settings)]
    _replay(approvers, history, settings)
    approvers.add_assignees(*pull.assignees)

    notifications = [
        c for c in comments if gh.is_bot(c.user) and NOTIFICATION.match(c.body)
    ]
    message = notification(
        approvers,
        link_url=ctx.config.github.link_url,
        command_help_link=settings.commandHelpLink,
        pr_process_link=settings.pr_process_link,
        org=org,
        repo=repo,
        branch=pull.base_ref,
        owners_filename=reader.owners_filename,
    )
    if not notifications or message not in notifications[-1].body:
        for old in notifications:
            gh.delete_comment(org, repo, old.id)
        ctx.comment(number, message)

    if approvers.is_approved():
        ctx.add_labels(number, LABEL)
    elif has_label:
        ctx.remove_labels(number, LABEL)


# Events ----------------------------------------------------------------------------


def handle_generic_comment(ctx: PluginContext, comment: GenericComment) -> None:
    if (
        comment.action != "created"
        or not comment.is_pr
        or comment.issue_state == "closed"
    ):
        return
    settings: ApproveConfig = plugin.settings(ctx)
    if not is_approval_command(comment.body, settings.lgtm_acts_as_approve):
        return
    if ctx.github.is_bot(comment.user):
        return
    pr = ctx.github.get_pull(comment.org, comment.repo, comment.number)
    recompute(
        ctx,
        _Pull(
            number=comment.number,
            base_ref=pr.base_ref,
            body=comment.issue_body,
            author=comment.issue_author,
            assignees=comment.assignees,
            html_url=comment.issue_html_url,
        ),
    )


def _pull_of(event: PullRequestEvent | ReviewEvent) -> _Pull:
    pr = event.pull
    return _Pull(
        number=pr.number,
        base_ref=pr.base_ref,
        body=pr.body,
        author=pr.author,
        assignees=tuple(pr.assignees),
        html_url=pr.html_url,
    )


def handle_review(ctx: PluginContext, event: ReviewEvent) -> None:
    if event.action not in ("submitted", "dismissed"):
        return
    settings: ApproveConfig = plugin.settings(ctx)
    review = event.review
    if review.user_type == "Bot":
        return  # an app's review, as the original ignores them
    # A review whose text holds an approval command is the comment
    # handler's: the command says more than the review's state.
    if is_approval_command(review.body, settings.lgtm_acts_as_approve):
        return
    if not (
        settings.review_counts
        and review.state in (APPROVED, CHANGES_REQUESTED, DISMISSED)
    ):
        return
    if ctx.github.is_bot(review.user):
        return
    recompute(ctx, _pull_of(event))


def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    action = event.action
    if action not in ("opened", "reopened", "synchronize", "labeled"):
        return
    if action == "labeled" and (
        event.label != LABEL
        or ctx.github.is_bot(event.sender)
        or event.pull.state == "closed"
    ):
        return
    recompute(ctx, _pull_of(event))


DESCRIPTION = (
    "The approve plugin implements a pull request approval process that manages "
    f"the '{LABEL}' label and an approval notification comment. Approval is "
    "achieved when the set of users that have approved the PR is capable of "
    "approving every file changed by the PR. A user is able to approve a file if "
    "their username or an alias they belong to is listed in the 'approvers' "
    "section of an OWNERS file in the directory of the file or higher in the "
    "directory tree."
    "<br>"
    "<br>Per-repo configuration may be used to require that PRs link to an "
    "associated issue before approval is granted. It may also be used to specify "
    "that the PR authors implicitly approve their own PRs."
    "<br>"
    "<br>Differences from the original: commands inside code blocks and HTML "
    "comments do not count; a `/lgtm` line counts as approval only with "
    "`lgtm_acts_as_approve`, also in a comment that says `/approve`; the "
    "suggested approvers are shuffled by the PR number with another random "
    "generator than the original's, so a PR may get other (still deterministic) "
    "suggestions; with `auto_approve_unowned_subfolders` in the root OWNERS file, "
    "files directly in the root still need an approver (the original lets them "
    "through too); markdown files' OWNERS headers (`owners.mdyamlrepos`) are not "
    "read."
)

plugin = Plugin(
    name="approve",
    description=DESCRIPTION,
    commands=(
        Command(
            pattern=re.compile(
                r"(?mi)^/(?:remove-)?approve(?:[\t ]+(?:no-issue|cancel))?[\t ]*$"
            ),
            usage="/[remove-]approve [no-issue|cancel]",
            description="Approves a pull request",
            examples=("/approve", "/approve no-issue", "/remove-approve"),
            who_can_use="Users listed as 'approvers' in appropriate OWNERS files.",
            featured=True,
        ),
        Command(
            pattern=re.compile(r"(?mi)^/lgtm(?:[\t ]+(?:no-issue|cancel))?[\t ]*$"),
            usage="/lgtm [cancel]",
            description=(
                "Where the approve configuration sets `lgtm_acts_as_approve`: "
                "approves a pull request as `/approve` does, or takes the "
                "approval back."
            ),
            examples=("/lgtm", "/lgtm cancel"),
            who_can_use="Users listed as 'approvers' in appropriate OWNERS files.",
        ),
    ),
    config=APPROVE_SECTION,
    config_help=(
        "approve: issue_required, require_self_approval, lgtm_acts_as_approve, "
        "ignore_review_state, commandHelpLink, pr_process_link; owners: "
        "skip_collaborators, filenames"
    ),
    handlers={
        GENERIC_COMMENT: handle_generic_comment,
        "pull_request_review": handle_review,
        "pull_request": handle_pull_request,
    },
)
