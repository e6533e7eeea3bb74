"""help: `/help` and `/good-first-issue` ask contributors for help on an
open issue (labels `help wanted` and `good first issue`, with the project's
guidelines in reply); `/remove-help` and `/remove-good-first-issue` take
the labels off and the replies back."""

import re
from urllib.parse import urlsplit

from hook.plugins.base import Command, Plugin
from prow.config.plugin_sections import PluginSection, SectionReport
from prow.config.schema import Section

HELP_WANTED = "help wanted"
GOOD_FIRST_ISSUE = "good first issue"
HELP = re.compile(r"(?mi)^/help\s*$")
REMOVE_HELP = re.compile(r"(?mi)^/remove-help\s*$")
GOOD_FIRST = re.compile(r"(?mi)^/good-first-issue\s*$")
REMOVE_GOOD_FIRST = re.compile(r"(?mi)^/remove-good-first-issue\s*$")
HELP_MARKER = "This request has been marked as needing help from a contributor."
GOOD_FIRST_MARKER = "This request has been marked as suitable for new contributors."


class HelpConfig(Section):
    help_guidelines_url: str = (
        "https://git.k8s.io/community/contributors/guide/help-wanted.md"
    )
    # Markdown shown under "Guidelines" in the replies, when set.
    help_guidelines_summary: str = ""


def _check(config: HelpConfig, report: SectionReport) -> None:
    parts = urlsplit(config.help_guidelines_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        report.error(
            ("help_guidelines_url",),
            f"must be an http or https address, not {config.help_guidelines_url!r}",
        )


SECTION = PluginSection("help", HelpConfig, check=_check)


def _message(config: HelpConfig, marker: str, anchor: str, command: str) -> str:
    url = config.help_guidelines_url + anchor
    removal = (
        "If this request no longer meets these requirements, the label can be "
        f"removed\nby commenting with the `{command}` command.\n"
    )
    if config.help_guidelines_summary:
        return (
            f"\n\t{marker}\n\n### Guidelines\n{config.help_guidelines_summary}\n\n"
            "For more details on the requirements of such an issue, please see "
            f"[here]({url}) and ensure that they are met.\n\n{removal}"
        )
    return (
        f"\n\t{marker}\n\nPlease ensure the request meets the requirements "
        f"listed [here]({url}).\n\n{removal}"
    )


def help_message(config: HelpConfig) -> str:
    return _message(config, HELP_MARKER, "", "/remove-help")


def good_first_issue_message(config: HelpConfig) -> str:
    return _message(
        config, GOOD_FIRST_MARKER, "#good-first-issue", "/remove-good-first-issue"
    )


def handle(ctx, comment) -> None:
    if comment.is_pr or comment.issue_state != "open" or comment.action != "created":
        return
    text = comment.command_text
    commands = (HELP, REMOVE_HELP, GOOD_FIRST, REMOVE_GOOD_FIRST)
    if not any(pattern.search(text) for pattern in commands):
        return
    # What to do follows from the labels the event saw, which stay the same
    # however often it is handled; how to do it is diffed against the
    # labels as they are now, so a second handling finds its work done.
    seen = {label.lower() for label in comment.labels}
    had_help, had_good_first = HELP_WANTED in seen, GOOD_FIRST_ISSUE in seen
    number = comment.number
    ctx.know(number, labels=ctx.github.labels(ctx.org, ctx.repo, number))
    config = plugin.settings(ctx)
    # One action per comment, in the original's order of precedence.
    if had_help and REMOVE_HELP.search(text):
        ctx.remove_labels(number, HELP_WANTED, GOOD_FIRST_ISSUE)
        ctx.prune_comments(
            number, lambda body: HELP_MARKER in body or GOOD_FIRST_MARKER in body
        )
    elif not had_good_first and GOOD_FIRST.search(text):
        # Labels first: a reply that then fails is made by the retry, once;
        # the other way round a failed label could bring a second reply.
        ctx.add_labels(number, GOOD_FIRST_ISSUE, HELP_WANTED)
        ctx.reply_once(comment, good_first_issue_message(config))
    elif not had_help and HELP.search(text):
        ctx.add_labels(number, HELP_WANTED)
        ctx.reply_once(comment, help_message(config))
    elif had_good_first and REMOVE_GOOD_FIRST.search(text):
        ctx.remove_labels(number, GOOD_FIRST_ISSUE)
        ctx.prune_comments(number, lambda body: GOOD_FIRST_MARKER in body)


plugin = Plugin(
    name="help",
    description=(
        "The help plugin provides commands that add or remove the 'help wanted' "
        "and the 'good first issue' labels from issues."
    ),
    handlers={"generic_comment": handle},
    commands=(
        Command(
            pattern=re.compile(r"(?mi)^/(?:remove-)?(?:help|good-first-issue)\s*$"),
            usage="/[remove-](help|good-first-issue)",
            description=(
                "Applies or removes the 'help wanted' and 'good first issue' "
                "labels to an issue."
            ),
            who_can_use="Anyone can trigger this command on an issue.",
            examples=(
                "/help",
                "/remove-help",
                "/good-first-issue",
                "/remove-good-first-issue",
            ),
        ),
    ),
    config=SECTION,
    config_help=(
        "`help.help_guidelines_url` is linked from the replies, and "
        "`help.help_guidelines_summary`, when set, is quoted in them."
    ),
)
