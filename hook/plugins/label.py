"""label: `/kind bug`, `/priority important-soon`, `/area`, `/triage`,
`/sig`, `/committee`, `/wg`, `/language` and their `/remove-*`, plus
`/label x` and `/remove-label x` for the labels plugins.yaml names.

Only labels the repository has are applied. Restricted labels may be set or
removed only by their allowed teams and users; `triage/accepted` only by
members of the org. Taking off the last kind, priority, sig or triage label
puts `needs-<category>` back when the repository has that label. A pull
request labeled with a restricted label's `assign_on` label is assigned to
the restricted label's allowed users.
"""

import re

from pydantic import Field

from hook.events import GENERIC_COMMENT, GenericComment, PullRequestEvent
from hook.plugins.base import Command, Plugin, PluginContext
from prow.config.plugin_sections import PluginSection, SectionReport
from prow.config.schema import Section

CATEGORIES = "area|committee|kind|language|priority|sig|triage|wg"
LABEL = re.compile(rf"(?m)^/({CATEGORIES})\s*(.*?)\s*$")
REMOVE_LABEL = re.compile(rf"(?m)^/remove-({CATEGORIES})\s*(.*?)\s*$")
CUSTOM_LABEL = re.compile(r"(?m)^/label\s*(.*?)\s*$")
CUSTOM_REMOVE_LABEL = re.compile(r"(?m)^/remove-label\s*(.*?)\s*$")
# Categories whose last label, when taken off, brings back needs-<category>.
NEEDS = ("kind", "priority", "sig", "triage")
TRIAGE_ACCEPTED = "triage/accepted"
# The original shows at most this many allowed users in a refusal.
SHOWN_USERS = 20


class AssignOnLabel(Section):
    label: str


class RestrictedLabel(Section):
    label: str
    allowed_teams: list[str] = Field(default_factory=list)
    allowed_users: list[str] = Field(default_factory=list)
    assign_on: list[AssignOnLabel] = Field(default_factory=list)


class LabelConfig(Section):
    additional_labels: list[str] = Field(default_factory=list)
    # "*", an org or an org/repo -> its restricted labels; they add up.
    restricted_labels: dict[str, list[RestrictedLabel]] = Field(default_factory=dict)

    def restricted_for(self, org: str, repo: str) -> dict[str, RestrictedLabel]:
        """The restricted labels of org/repo by lower-cased name; a label
        restricted at several levels allows everyone any level allows."""
        result: dict[str, RestrictedLabel] = {}
        for key in ("*", org, f"{org}/{repo}"):
            for entry in self.restricted_labels.get(key, []):
                name = entry.label.lower()
                known = result.get(name)
                if known is None:
                    result[name] = entry
                    continue
                assign_on = {a.label: a for a in known.assign_on}
                assign_on.update({a.label: a for a in entry.assign_on})
                result[name] = known.model_copy(
                    update={
                        "allowed_users": sorted(
                            {*known.allowed_users, *entry.allowed_users}
                        ),
                        "allowed_teams": sorted(
                            {*known.allowed_teams, *entry.allowed_teams}
                        ),
                        "assign_on": list(assign_on.values()),
                    }
                )
        return result


def _check(config: LabelConfig, report: SectionReport) -> None:
    additional = {label.lower() for label in config.additional_labels}
    for key, entries in config.restricted_labels.items():
        seen: set[str] = set()
        for index, entry in enumerate(entries):
            path = ("restricted_labels", key, index)
            name = entry.label.strip().lower()
            if not name:
                report.error((*path, "label"), "a restricted label needs a name")
                continue
            if name in seen:
                report.error(
                    (*path, "label"),
                    f"there are multiple label.restricted_labels configs for "
                    f"label {entry.label}",
                )
            seen.add(name)
            if not entry.allowed_teams and not entry.allowed_users:
                report.warning(
                    path,
                    f"nobody may apply or remove {entry.label!r}: give it "
                    "allowed_teams or allowed_users",
                )
            if entry.assign_on and not entry.allowed_users:
                report.warning(
                    (*path, "assign_on"),
                    "assign_on assigns the allowed_users, and there are none",
                )
            if name in additional:
                report.warning(
                    (*path, "label"),
                    f"{entry.label!r} is in additional_labels too; being "
                    "restricted, only its allowed teams and users may set it",
                )


SECTION = PluginSection(
    "label", LabelConfig, check=_check, map_fields=frozenset({"restricted_labels"})
)


def _category_labels(matches: list[re.Match]) -> list[str]:
    # "/kind bug cleanup" is kind/bug and kind/cleanup.
    labels = []
    for match in matches:
        for word in match.group(0).strip().split()[1:]:
            labels.append(f"{match.group(1)}/{word}".lower())
    return labels


def _custom_labels(matches: list[re.Match], allowed, refused: list[str]) -> list[str]:
    """`/label x` names exactly one label, and one plugins.yaml knows."""
    labels = []
    for match in matches:
        parts = match.group(0).strip().split(" ")
        if parts[0] not in ("/label", "/remove-label") or len(parts) != 2:
            continue
        if allowed(parts[1].lower()):
            labels.append(parts[1].lower())
        else:
            refused.append(match.group(0))
    return labels


def _in_category(labels, category: str) -> set[str]:
    prefix = f"{category}/"
    return {label.lower() for label in labels if label.lower().startswith(prefix)}


def _refusal(ctx: PluginContext, user: str, label: str, restricted) -> str | None:
    """Why user may not set or remove label; None when they may."""
    rule = restricted.get(label.lower())
    if rule is None:
        return None
    if any(allowed.lower() == user.lower() for allowed in rule.allowed_users):
        return None
    if any(ctx.is_team_member(team, user) for team in rule.allowed_teams):
        return None
    text = (
        f"The label(s) `{label}` cannot be applied or removed, because you are "
        "not in one of the allowed teams and are not an allowed user."
    )
    if rule.allowed_teams:
        text += (
            f" Must be a member of one of these teams: {', '.join(rule.allowed_teams)}"
        )
    elif rule.allowed_users:
        shown = rule.allowed_users[:SHOWN_USERS]
        text += f" Consider assigning one of the following members: {','.join(shown)}"
    return text


def handle_comment(ctx: PluginContext, comment: GenericComment) -> None:
    if comment.action != "created":
        return
    text = comment.command_text
    adds, removes = list(LABEL.finditer(text)), list(REMOVE_LABEL.finditer(text))
    custom_adds = list(CUSTOM_LABEL.finditer(text))
    custom_removes = list(CUSTOM_REMOVE_LABEL.finditer(text))
    if not (adds or removes or custom_adds or custom_removes):
        return

    config: LabelConfig = plugin.settings(ctx)
    restricted = config.restricted_for(ctx.org, ctx.repo)
    additional = {label.lower() for label in config.additional_labels}

    def allowed(label: str) -> bool:
        return label in restricted or label in additional

    refused: list[str] = []
    to_add = _category_labels(adds) + _custom_labels(custom_adds, allowed, refused)
    to_remove = _category_labels(removes) + _custom_labels(
        custom_removes, allowed, refused
    )
    number = comment.number
    # The repository's own spelling of each label, by lower-cased name.
    in_repo = {name.lower(): name for name in ctx.github.repo_labels(ctx.org, ctx.repo)}
    on_issue = ctx.labels(number)

    for category in NEEDS:
        needs = f"needs-{category}"
        if needs not in in_repo:
            continue
        removed = _in_category(to_remove, category)
        if not removed or _in_category(to_add, category):
            continue
        if removed >= _in_category(on_issue, category):
            to_add.append(needs)

    answers: list[str] = []
    missing_in_repo: list[str] = []
    not_on_issue: list[str] = []
    triage_refused = False
    adding: list[str] = []
    for label in to_add:
        if ctx.has_label(number, label) or label in (a.lower() for a in adding):
            continue
        if label not in in_repo:
            missing_in_repo.append(label)
            continue
        if label == TRIAGE_ACCEPTED and not ctx.github.is_org_member(
            ctx.org, comment.user
        ):
            triage_refused = True
            continue
        refusal = _refusal(ctx, comment.user, label, restricted)
        if refusal:
            answers.append(refusal)
            continue
        adding.append(in_repo[label])

    removing: list[str] = []
    for label in to_remove:
        if not ctx.has_label(number, label):
            not_on_issue.append(label)
            continue
        if label not in in_repo:
            continue
        refusal = _refusal(ctx, comment.user, label, restricted)
        if refusal:
            answers.append(refusal)
            continue
        removing.append(label)

    ctx.add_labels(number, *adding)
    ctx.remove_labels(number, *removing)

    # As in the original, one of these at most, the first that applies.
    if refused:
        supported = config.additional_labels + sorted(restricted)
        answers.append(
            f"The label(s) `{', '.join(refused)}` cannot be applied. These labels "
            f"are supported: `{', '.join(supported)}`. Is this label configured "
            "under `labels -> additional_labels` or `labels -> restricted_labels` "
            "in `plugin.yaml`?"
        )
    elif missing_in_repo:
        answers.append(
            f"The label(s) `{', '.join(missing_in_repo)}` cannot be applied, "
            "because the repository doesn't have them."
        )
    elif not_on_issue:
        answers.append(
            f"Those labels are not set on the issue: `{', '.join(not_on_issue)}`"
        )
    elif triage_refused:
        answers.append(
            f"The label `{TRIAGE_ACCEPTED}` cannot be applied. Only GitHub "
            "organization members can add the label."
        )
    for answer in answers:
        ctx.reply_once(comment, answer)


def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    if event.action != "labeled" or not event.label:
        return
    config: LabelConfig = plugin.settings(ctx)
    for rule in config.restricted_for(ctx.org, ctx.repo).values():
        if any(on.label.lower() == event.label.lower() for on in rule.assign_on):
            ctx.assign(event.number, *rule.allowed_users)


CATEGORY_COMMAND = Command(
    pattern=LABEL,
    usage=(
        "/[remove-](area|committee|kind|language|priority|sig|triage|wg|label) <target>"
    ),
    description=(
        "Applies or removes a label from one of the recognized types of labels."
    ),
    examples=(
        "/kind bug",
        "/remove-area prow",
        "/sig testing",
        "/language zh",
        "/label foo-bar-baz",
    ),
    who_can_use=(
        "Anyone can trigger this command on issues and PRs. `triage/accepted` "
        "can only be added by org members. Restricted labels are only able to "
        "be added by teams and users in their configuration."
    ),
)

plugin = Plugin(
    name="label",
    description=(
        "The label plugin provides commands that add or remove certain types of "
        "labels. Labels of the following types can be manipulated: 'area/*', "
        "'committee/*', 'kind/*', 'language/*', 'priority/*', 'sig/*', "
        "'triage/*', and 'wg/*'. More labels can be configured to be used via "
        "the /label command. Restricted labels are only able to be added by the "
        "teams and users present in their configuration, and those users can be "
        "automatically assigned when another label is added using the assign_on "
        "config. Unlike the original, the labels a comment adds go on in one "
        "request, the labels on the issue are taken from the event rather than "
        "read again, and an answer already given to a comment is not repeated."
    ),
    commands=(
        CATEGORY_COMMAND,
        Command(
            pattern=REMOVE_LABEL,
            usage=CATEGORY_COMMAND.usage,
            description="Removes a label of one of the recognized types.",
            examples=("/remove-kind bug",),
            who_can_use=CATEGORY_COMMAND.who_can_use,
        ),
        Command(
            pattern=CUSTOM_LABEL,
            usage="/label <label>",
            description=(
                "Applies a label named under additional_labels or "
                "restricted_labels in plugins.yaml."
            ),
            examples=("/label foo-bar-baz",),
            who_can_use=CATEGORY_COMMAND.who_can_use,
        ),
        Command(
            pattern=CUSTOM_REMOVE_LABEL,
            usage="/remove-label <label>",
            description="Removes a label applied with /label.",
            examples=("/remove-label foo-bar-baz",),
            who_can_use=CATEGORY_COMMAND.who_can_use,
        ),
    ),
    handlers={
        GENERIC_COMMENT: handle_comment,
        "pull_request": handle_pull_request,
    },
    config=SECTION,
    config_help=(
        "label: additional_labels (what /label may apply) and restricted_labels "
        '(by "*", org or org/repo: label, allowed_teams, allowed_users, '
        "assign_on)."
    ),
)
