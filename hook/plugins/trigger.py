"""trigger: starts presubmits on pull requests and postsubmits on pushes,
and runs /test, /retest and /ok-to-test.

Untrusted authors' pull requests run nothing until a trusted member says
/ok-to-test. Trust is "commenter trusted OR pull request trusted"; a pull
request is trusted when its author is, or when it carries `ok-to-test`.
"""

import re
from urllib.parse import quote

from hook.commands import parse_commands
from hook.events import GENERIC_COMMENT, PullRequestEvent, PushEvent
from hook.plugins.base import Command, Plugin, PluginContext
from jobs import matching
from jobs.inrepo import InRepoConfigError, postsubmits_for, presubmits_for
from jobs.labels import EVENT_GUID_LABEL
from jobs.models import ProwJobType
from jobs.presubmits import (
    base_refs,
    made_for_event,
    presubmits_start,
    pull_changes,
)
from jobs.services import (
    postsubmit_fields,
    prowjob_create,
    pull_request_presubmits_abort,
)
from jobs.trust import OK_TO_TEST, trusted_user
from prow.config.plugins_schema import TRIGGERS
from prow.config.regex import compile_go_regex
from prow.config.schema import Presubmit
from prow.github.bot import ABOUT_BOT
from prow.github.types import PullRequest

NEEDS_OK_TO_TEST = "needs-ok-to-test"
LGTM = "lgtm"
ABORTED = "Aborted by trigger plugin."

TEST_ALL = re.compile(r"(?m)^/test all,?($|\s.*)")
RETEST = re.compile(r"(?m)^/retest\s*$")
RETEST_REQUIRED = re.compile(r"(?m)^/retest-required\s*$")
OK_TO_TEST_COMMAND = re.compile(r"(?m)^/ok-to-test\s*$")
OK_TO_TEST_CANCEL = re.compile(r"(?m)^/ok-to-test\s+cancel\s*$")
TEST_MANUAL_REQUIRED = re.compile(r"(?m)^/test-manual-required\s*$")
TEST_HELP = re.compile(r"(?m)^/test[ \t]*\?\s*$")
TEST_WITHOUT_TARGET = re.compile(r"(?m)^/test\s*$")
RETEST_WITH_TARGET = re.compile(r"(?m)^/retest[ \t]+\S+")
TEST_WITH_TARGET = re.compile(r"(?m)^/test[ \t]+\S+")
TEST_OR_RETEST = re.compile(r"(?m)^/(?:re)?test\b")
ANYONE_ON_TRUSTED = "Anyone can trigger this command on a trusted PR."

# Trigger's commands decide together (one comment may say /ok-to-test and
# /test e2e), so its comment handler reads these patterns itself rather than
# giving each command a handler; the help entries come from here all the same.
COMMANDS = (
    Command(
        pattern=OK_TO_TEST_COMMAND,
        usage="/ok-to-test",
        description="Marks a PR as 'trusted' and starts tests.",
        examples=("/ok-to-test",),
        who_can_use="Members of the trusted organization for the repo.",
    ),
    Command(
        pattern=TEST_WITH_TARGET,
        usage="/test (<job name>|all)",
        description=(
            "Manually starts a/all automatically and manually triggered "
            "test job(s). Lists all possible job(s) when no jobs/an "
            "invalid job are specified."
        ),
        examples=("/test all", "/test pull-bazel-test"),
        who_can_use=ANYONE_ON_TRUSTED,
        featured=True,
    ),
    Command(
        pattern=RETEST,
        usage="/retest",
        description="Rerun test jobs that have failed.",
        examples=("/retest",),
        who_can_use=ANYONE_ON_TRUSTED,
        featured=True,
    ),
    Command(
        pattern=RETEST_REQUIRED,
        usage="/retest-required",
        description="Rerun non-optional test jobs that have failed.",
        examples=("/retest-required",),
        who_can_use=ANYONE_ON_TRUSTED,
    ),
)
# Every pattern trigger acts on, the help's and the ones it answers
# with help or a refusal.
PATTERNS = (
    TEST_ALL,
    RETEST,
    RETEST_REQUIRED,
    OK_TO_TEST_COMMAND,
    OK_TO_TEST_CANCEL,
    TEST_MANUAL_REQUIRED,
    TEST_HELP,
    TEST_WITHOUT_TARGET,
    RETEST_WITH_TARGET,
    TEST_WITH_TARGET,
)

NOTE_TEST_WITHOUT_TARGET = "The `/test` command needs one or more targets.\n"
NOTE_RETEST_WITH_TARGET = "The `/retest` command does not accept any targets.\n"
NOTE_NO_TEST_ALL_JOBS = "No jobs can be run with `/test all`.\n"
NOTE_TARGET_NOT_FOUND = "The specified target(s) for `/test` were not found.\n"
HELP_MARKERS = (
    NOTE_TEST_WITHOUT_TARGET,
    NOTE_RETEST_WITH_TARGET,
    NOTE_NO_TEST_ALL_JOBS,
    NOTE_TARGET_NOT_FOUND,
    "The following commands are available to trigger",
    "No presubmit jobs available for",
)
UNTRUSTED_REPLY = (
    "Cannot trigger testing until a trusted user reviews the PR and leaves an "
    "`/ok-to-test` message."
)
UNTRUSTED_REPLY_IGNORED = (
    "PRs from untrusted users cannot be marked as trusted with `/ok-to-test` in "
    "this repo meaning untrusted PR authors can never trigger tests themselves. "
    "Collaborators can still trigger tests on the PR using `/test`."
)
DRAFT_NOTE = (
    "Skipping CI for Draft Pull Request.\n"
    "If you want CI signal for your change, please convert it to an actual PR.\n"
    "You can still manually trigger a test run with `/test all`"
)


class Trigger:
    """One run of the plugin for one pull request."""

    def __init__(self, ctx: PluginContext, pr: PullRequest):
        self.ctx = ctx
        self.pr = pr
        self.gh = ctx.github
        self.settings = ctx.plugins.section(TRIGGERS.key, pr.org, pr.repo)
        self._trusted: dict[str, bool] = {}
        self._presubmits: list[Presubmit] | None = None
        ctx.know(pr.number, labels=pr.labels)

    # Trust --------------------------------------------------------------------

    def trusted(self, login: str) -> bool:
        if login not in self._trusted:
            self._trusted[login] = bool(
                trusted_user(self.gh, login, self.pr.org, self.pr.repo, self.settings)
            )
        return self._trusted[login]

    def has_label(self, label: str) -> bool:
        return self.ctx.has_label(self.pr.number, label)

    def pr_trusted(self) -> bool:
        return self.has_label(OK_TO_TEST) or self.trusted(self.pr.author)

    # Jobs ---------------------------------------------------------------------

    @property
    def presubmits(self) -> list[Presubmit]:
        if self._presubmits is None:
            self._presubmits = presubmits_for(
                self.gh, self.ctx.config, self.pr.org, self.pr.repo, self.pr.head_sha
            )
        return self._presubmits

    def changes(self) -> list[str]:
        return pull_changes(self.gh, self.pr)

    def start(self, jobs: list[Presubmit], *, retest: bool = False) -> None:
        presubmits_start(
            config=self.ctx.config,
            github=self.gh,
            guid=self.ctx.guid,
            pulls=[self.pr],
            jobs=jobs,
            retest=retest,
        )

    def test_all(self) -> list[Presubmit]:
        return matching.test_all_presubmits(
            self.presubmits, self.pr.base_ref, self.changes
        )

    def abort_running(self) -> None:
        pull_request_presubmits_abort(
            self.pr.org, self.pr.repo, self.pr.number, ABORTED
        )

    # Labels and comments ----------------------------------------------------------

    def add_label(self, label: str) -> None:
        self.ctx.add_labels(self.pr.number, label)

    def remove_label(self, label: str) -> None:
        self.ctx.remove_labels(self.pr.number, label)

    def welcome(self) -> None:
        """The one comment an untrusted author gets, explaining /ok-to-test."""
        pr, s = self.pr, self.settings
        people = f"https://github.com/orgs/{pr.org}/people"
        join_url = s.join_org_url or people
        repo_param = quote(f"{pr.org}/{pr.repo}", safe="")
        commands = f"https://go.k8s.io/bot-commands?repo={repo_param}"
        if s.ignore_ok_to_test:
            body = (
                f"Hi @{pr.author}. Thanks for your PR.\n\n"
                "PRs from untrusted users cannot be marked as trusted with "
                "`/ok-to-test` in this repo meaning untrusted PR authors can never "
                "trigger tests themselves. Collaborators can still trigger tests on "
                "the PR using `/test all`.\n\n"
                f"I understand the commands that are listed [here]({commands}).\n\n"
                f"<details>\n\n{ABOUT_BOT}\n</details>\n"
            )
        else:
            body = (
                f"Hi @{pr.author}. Thanks for your PR.\n\n"
                f"I'm waiting for a [{pr.org}]({people}) "
                "member to verify that this patch is reasonable to test. If it is, "
                "they should reply with `/ok-to-test` on its own line. Until that is "
                "done, I will not automatically test new commits in this PR, but the "
                "usual testing commands by org members will still work. Regular "
                f"contributors should [join the org]({join_url}) to skip this step.\n\n"
                "Once the patch is verified, the new status will be reflected by the "
                "`ok-to-test` label.\n\n"
                f"I understand the commands that are listed [here]({commands}).\n\n"
                f"<details>\n\n{ABOUT_BOT}\n</details>\n"
            )
        self.ctx.comment(pr.number, body)

    def help_message(self, note: str) -> str:
        branch = self.pr.base_ref
        runnable = [j for j in self.presubmits if matching.branch_matches(j, branch)]
        required = sorted(
            j.effective_rerun_command for j in runnable if matching.is_required(j)
        )
        optional = sorted(
            j.effective_rerun_command for j in runnable if not matching.is_required(j)
        )
        automatic = sorted(
            j.name for j in runnable if not matching.needs_explicit_trigger(j)
        )
        if not (required or optional or automatic):
            return (
                f"No presubmit jobs available for {self.pr.org}/{self.pr.repo}@{branch}"
            )

        def bullets(items):
            return "".join(f"\n* `{item}`" for item in items)

        text = note
        if required:
            text += (
                "The following commands are available to trigger required jobs:"
                f"{bullets(required)}\n\n"
            )
        if optional:
            text += (
                "The following commands are available to trigger optional jobs:"
                f"{bullets(optional)}\n\n"
            )
        if len(automatic) == len(required) + len(optional):
            text += "Use `/test all` to run all jobs.\n"
        elif automatic:
            text += (
                "Use `/test all` to run the following jobs that were automatically "
                f"triggered:{bullets(automatic)}\n\n"
            )
        return text

    def prune_help(self) -> None:
        """Earlier help replies are noise once a command did something."""
        for comment in self.gh.list_comments(self.pr.org, self.pr.repo, self.pr.number):
            if self.gh.is_bot(comment.user) and any(
                marker in (comment.body or "") for marker in HELP_MARKERS
            ):
                self.gh.delete_comment(self.pr.org, self.pr.repo, comment.id)


# Pull request events -----------------------------------------------------------


def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    if not event.number:
        return
    config = ctx.config
    if not config.presubmits_for(
        ctx.org, ctx.repo
    ) and not config.in_repo_config.enabled_for(ctx.org, ctx.repo):
        return
    trigger = Trigger(ctx, event.pull)
    try:
        _on_pull_request(trigger, event)
    except InRepoConfigError as exc:
        _report_inrepo_error(trigger, exc)


def _on_pull_request(trigger: Trigger, event: PullRequestEvent) -> None:
    pr, action = trigger.pr, event.action
    if action == "opened":
        if trigger.pr_trusted():
            if pr.draft:
                trigger.ctx.comment(pr.number, DRAFT_NOTE)
                return
            trigger.start(trigger.test_all())
        elif not trigger.has_label(OK_TO_TEST):
            if not trigger.settings.ignore_ok_to_test:
                trigger.add_label(NEEDS_OK_TO_TEST)
            trigger.welcome()
    elif action in ("reopened", "ready_for_review") or (
        action == "edited" and "base" in event.changes
    ):
        _rerun_trusted(trigger)
    elif action == "synchronize":
        trigger.abort_running()
        _rerun_trusted(trigger)
    elif action == "labeled":
        label, sender = event.label, event.sender
        if label == LGTM and not trigger.pr_trusted() and not pr.draft:
            # An LGTM means someone trusted has read the code.
            trigger.start(trigger.test_all())
        elif label == OK_TO_TEST and not trigger.gh.is_bot(sender) and not pr.draft:
            # The bot adding ok-to-test itself already started the jobs.
            trigger.start(trigger.test_all())
    elif action in ("closed", "converted_to_draft"):
        trigger.abort_running()


def _rerun_trusted(trigger: Trigger) -> None:
    if not trigger.pr_trusted():
        return
    trigger.remove_label(NEEDS_OK_TO_TEST)
    if not trigger.pr.draft:
        trigger.start(trigger.test_all())


def _report_inrepo_error(trigger: Trigger, exc: InRepoConfigError) -> None:
    pr = trigger.pr
    trigger.ctx.comment(
        pr.number,
        f"@{pr.author}: The repository's job configuration could not be loaded, so no "
        f"jobs were started:\n\n```\n{exc}\n```\n",
    )


# Comments -----------------------------------------------------------------------


def handle_generic_comment(ctx: PluginContext, comment) -> None:
    if (
        comment.action != "created"
        or not comment.is_pr
        or comment.issue_state != "open"
    ):
        return
    text = comment.command_text
    config = ctx.config
    static = config.presubmits_for(comment.org, comment.repo)
    inrepo = config.in_repo_config.enabled_for(comment.org, comment.repo)
    central = any(p.search(text) for p in PATTERNS) or any(
        compile_go_regex(j.effective_trigger).search(text) for j in static
    )
    # The repository's own jobs may have triggers of their own; only a slash
    # command is worth reading them for.
    if not central and not (inrepo and parse_commands(text)):
        return
    pr = ctx.github.get_pull(comment.org, comment.repo, comment.number)
    if pr.state != "open":
        return
    trigger = Trigger(ctx, pr)
    try:
        _on_comment(trigger, comment, text, central)
    except InRepoConfigError as exc:
        _report_inrepo_error(trigger, exc)


def _on_comment(trigger: Trigger, comment, text: str, central: bool) -> None:
    settings = trigger.settings
    commenter_trusted = trigger.trusted(comment.user)
    if not commenter_trusted and not trigger.pr_trusted():
        # Trust first: the pull request's own config is its author's to
        # write, so nobody untrusted gets it read, or its patterns run
        # against their comment. Only what the central config knows is
        # answered.
        if central:
            trigger.ctx.reply(
                comment,
                UNTRUSTED_REPLY_IGNORED
                if settings.ignore_ok_to_test
                else UNTRUSTED_REPLY,
            )
        return
    jobs = trigger.presubmits
    mentions_job = any(compile_go_regex(j.effective_trigger).search(text) for j in jobs)
    if not central and not mentions_job:
        return
    if OK_TO_TEST_CANCEL.search(text):
        if not commenter_trusted:
            trigger.ctx.reply(comment, "Only trusted users can revoke `/ok-to-test`.")
            return
        trigger.remove_label(OK_TO_TEST)
        trigger.add_label(NEEDS_OK_TO_TEST)
        return
    ok_to_test = (
        bool(OK_TO_TEST_COMMAND.search(text)) and not settings.ignore_ok_to_test
    )
    if ok_to_test:
        if commenter_trusted:
            trigger.add_label(OK_TO_TEST)
        trigger.remove_label(NEEDS_OK_TO_TEST)
    elif trigger.has_label(OK_TO_TEST):
        trigger.remove_label(NEEDS_OK_TO_TEST)

    selected, retest = _select(trigger, text, ok_to_test)
    note = _help_note(text, len(selected))
    if note is not None:
        trigger.ctx.reply(comment, trigger.help_message(note))
        return
    if TEST_OR_RETEST.search(text):
        trigger.prune_help()
    trigger.start(selected, retest=retest)


def _select(
    trigger: Trigger, text: str, ok_to_test: bool
) -> tuple[list[Presubmit], bool]:
    """The union of what the comment's commands ask for; the first filter
    that selects a job decides, as in the original."""
    branch = trigger.pr.base_ref
    jobs = trigger.presubmits
    selected: dict[str, Presubmit] = {}
    retest = bool(RETEST.search(text) or RETEST_REQUIRED.search(text))

    for job in jobs:
        if compile_go_regex(job.effective_trigger).search(
            text
        ) and matching.branch_matches(job, branch):
            selected.setdefault(job.name, job)
    if RETEST.search(text) or RETEST_REQUIRED.search(text):
        required_only = not RETEST.search(text)
        for job in _failed_or_missing(trigger, required_only):
            selected.setdefault(job.name, job)
    if TEST_MANUAL_REQUIRED.search(text):
        for job in jobs:
            if (
                matching.is_required(job)
                and matching.needs_explicit_trigger(job)
                and matching.branch_matches(job, branch)
            ):
                selected.setdefault(job.name, job)
    if ok_to_test or TEST_ALL.search(text):
        for job in trigger.test_all():
            selected.setdefault(job.name, job)
    return list(selected.values()), retest


def _failed_or_missing(trigger: Trigger, required_only: bool) -> list[Presubmit]:
    """/retest: jobs whose context failed or errored (re-run whatever their
    file filters say), and automatic jobs with no context yet (subject to the
    usual filters). Pending and passing jobs are left alone."""
    pr = trigger.pr
    status = trigger.gh.combined_status(pr.org, pr.repo, pr.head_sha)
    states = {s.context: s.state for s in status.statuses}
    chosen = []
    for job in trigger.presubmits:
        if required_only and not matching.is_required(job):
            continue
        if not matching.branch_matches(job, pr.base_ref):
            continue
        state = states.get(job.effective_context)
        if state in ("failure", "error") or (
            state is None
            and not matching.needs_explicit_trigger(job)
            and matching.presubmit_should_run(job, pr.base_ref, trigger.changes)
        ):
            chosen.append(job)
    return chosen


def _help_note(text: str, selected: int) -> str | None:
    """The note of the help reply this comment calls for, or None."""
    if TEST_HELP.search(text):
        return ""
    if TEST_WITHOUT_TARGET.search(text):
        return NOTE_TEST_WITHOUT_TARGET
    if RETEST_WITH_TARGET.search(text):
        return NOTE_RETEST_WITH_TARGET
    if selected == 0 and TEST_ALL.search(text):
        return NOTE_NO_TEST_ALL_JOBS
    if selected == 0 and TEST_WITH_TARGET.search(text):
        return NOTE_TARGET_NOT_FOUND
    return None


# Pushes -------------------------------------------------------------------------


def handle_push(ctx: PluginContext, event: PushEvent) -> None:
    if event.deleted:
        return  # a branch or tag deleted: nothing to test
    org, after, branch = ctx.org, event.after, event.branch
    try:
        jobs = postsubmits_for(ctx.github, ctx.config, org, ctx.repo, after)
    except InRepoConfigError as exc:
        ctx.logger.warning("in-repo config of %s/%s@%s: %s", org, ctx.repo, after, exc)
        jobs = ctx.config.postsubmits_for(org, ctx.repo)
    if not jobs:
        return
    refs = base_refs(
        ctx.config.github.link_url.rstrip("/"), org, ctx.repo, branch, after
    )
    if event.compare:
        refs["base_link"] = event.compare
    made = made_for_event(ctx.guid, type=ProwJobType.POSTSUBMIT)
    for job in jobs:
        # A tag runs only the jobs whose branch filters name it explicitly.
        if event.is_tag and not job.branches:
            continue
        if not matching.postsubmit_should_run(job, branch, lambda: event.changed_files):
            continue
        if job.name in made:
            continue
        prowjob_create(
            fields=postsubmit_fields(job, refs, ctx.config),
            extra_labels={EVENT_GUID_LABEL: ctx.guid},
        )


plugin = Plugin(
    name="trigger",
    description=(
        "The trigger plugin starts tests in reaction to commands and pull "
        "request events. It is responsible for ensuring that test jobs are "
        "only run on trusted PRs. A PR is considered trusted if the author is "
        "a member of the trusted organization for the repository or if such "
        "a member has left an `/ok-to-test` command on the PR."
    ),
    commands=COMMANDS,
    config=TRIGGERS,
    config_help=(
        "triggers: trusted_apps, trusted_org, join_org_url, only_org_members, "
        "ignore_ok_to_test"
    ),
    handlers={
        "pull_request": handle_pull_request,
        GENERIC_COMMENT: handle_generic_comment,
        "push": handle_push,
    },
)
