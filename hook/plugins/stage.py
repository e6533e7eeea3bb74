"""stage: `/stage alpha|beta|stable` labels the maturity of a feature; the
three labels exclude each other. `/remove-stage X` takes one off."""

import re

from hook.plugins.base import GENERIC_COMMENT, CommandHelp, Plugin, PluginHelp

STAGES = ("alpha", "beta", "stable")
COMMAND = re.compile(r"(?mi)^/(remove-)?stage (alpha|beta|stable)\s*$")


def handle_comment(ctx, comment) -> None:
    if comment.action != "created":
        return
    commands = list(COMMAND.finditer(comment.command_text))
    if not commands:
        return
    gh, org, repo, number = ctx.github, comment.org, comment.repo, comment.number
    current = set(gh.labels(org, repo, number))
    for match in commands:
        remove, stage = bool(match.group(1)), match.group(2).lower()
        label = f"stage/{stage}"
        if remove:
            if label in current:
                gh.remove_label(org, repo, number, label)
                current.discard(label)
            continue
        for other in STAGES:
            other_label = f"stage/{other}"
            if other != stage and other_label in current:
                gh.remove_label(org, repo, number, other_label)
                current.discard(other_label)
        if label not in current:
            gh.add_labels(org, repo, number, label)
            current.add(label)


plugin = Plugin(
    name="stage",
    help=PluginHelp(
        description=(
            "Labels the stage of a feature: stage/alpha, stage/beta or "
            "stage/stable; adding one removes the others."
        ),
        commands=(
            CommandHelp(
                usage="/[remove-]stage <alpha|beta|stable>",
                description="Labels the stage of a feature, or removes that label.",
                examples=("/stage alpha", "/remove-stage alpha"),
            ),
        ),
    ),
    handlers={GENERIC_COMMENT: handle_comment},
)
