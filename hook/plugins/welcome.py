"""welcome: greets a contributor's first pull request to a repository with
the configured message.

The message is written in the original's Go template syntax, of which only
field substitutions (`{{.AuthorLogin}}`) are understood: no conditions,
loops or functions. Anything else is refused when plugins.yaml is loaded,
with its line, rather than on the day a newcomer opens a pull request.
"""

import html
import re

from hook.plugins.base import Plugin
from jobs.trust import trusted_user
from prow.config.plugin_sections import PluginSection, SectionReport, Shape
from prow.config.plugins_schema import TRIGGERS, RepoScoped

DEFAULT_MESSAGE = (
    "Welcome @{{.AuthorLogin}}! It looks like this is your first PR to "
    "{{.Org}}/{{.Repo}} 🎉"
)
FIELDS = ("Org", "Repo", "AuthorLogin", "AuthorName", "PullRequestNumber")
KNOWN = ", ".join("{{." + name + "}}" for name in FIELDS)
_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_FIELD = re.compile(r"\s*\.([A-Za-z_]\w*)\s*")


class WelcomeConfig(RepoScoped):
    message_template: str = DEFAULT_MESSAGE
    always_post: bool = False


def template_problem(template: str) -> str | None:
    """Why template is not one this plugin can render; None when it is."""
    for match in _ACTION.finditer(template):
        field = _FIELD.fullmatch(match.group(1))
        if field is None:
            return (
                f"{match.group(0)!r} is not a field; the welcome message may "
                f"only use {KNOWN}"
            )
        if field.group(1) not in FIELDS:
            return (
                f"unknown field {field.group(1)!r} in {match.group(0)!r}; known: "
                f"{', '.join(FIELDS)}"
            )
    rest = _ACTION.sub("", template)
    if "{{" in rest:
        return "an unclosed '{{' in the welcome message"
    return None


def _check(entries: list[WelcomeConfig], report: SectionReport) -> None:
    for index, entry in enumerate(entries):
        problem = template_problem(entry.message_template)
        if problem:
            report.error((index, "message_template"), problem)


SECTION = PluginSection("welcome", WelcomeConfig, Shape.REPO_LIST, check=_check)


def render(template: str, values: dict[str, str]) -> str:
    """template with its fields filled in; values are HTML-escaped, as the
    original's html/template does, so a display name cannot add markup."""
    return _ACTION.sub(
        lambda match: html.escape(values[_FIELD.fullmatch(match.group(1)).group(1)]),
        template,
    )


def on_pull_request(ctx, event) -> None:
    if event.action != "opened":
        return
    pr = event.payload.get("pull_request") or {}
    author = pr.get("user") or {}
    login = str(author.get("login") or "")
    # Bots' pull requests cannot be searched for, and need no welcome.
    if not login or author.get("type") != "User":
        return
    config = plugin.settings(ctx)
    if not config.always_post:
        trigger = ctx.plugins.section(TRIGGERS.key, ctx.org, ctx.repo)
        if trusted_user(ctx.github, login, ctx.org, ctx.repo, trigger).trusted:
            return
        found = ctx.github.search_issues(
            f"is:pr repo:{ctx.org}/{ctx.repo} author:{login}"
        )
        if any(issue.number != event.number for issue in found):
            return
    template = config.message_template or DEFAULT_MESSAGE
    message = render(
        template,
        {
            "Org": ctx.org,
            "Repo": ctx.repo,
            "AuthorLogin": login,
            "AuthorName": str(author.get("name") or ""),
            "PullRequestNumber": str(event.number),
        },
    )
    # The same pull request opened event handled again finds its welcome.
    if any(c.body == message for c in ctx.bot_comments(event.number)):
        return
    ctx.comment(event.number, message)


plugin = Plugin(
    name="welcome",
    description=(
        "The welcome plugin greets incoming PRs with a welcoming message. Its "
        "message template understands only field substitutions "
        "({{.Org}}, {{.Repo}}, {{.AuthorLogin}}, {{.AuthorName}}, "
        "{{.PullRequestNumber}}), and a template using anything else is "
        "refused when the config is loaded. A pull request is welcomed once, "
        "even when its webhook is delivered again."
    ),
    handlers={"pull_request": on_pull_request},
    config=SECTION,
    config_help=(
        "`welcome` entries name their repos and the `message_template` posted "
        "on a first-time contributor's first pull request; `always_post` "
        "greets every pull request, trusted authors' too."
    ),
)
