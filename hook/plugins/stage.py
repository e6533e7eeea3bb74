"""stage: `/stage alpha|beta|stable` labels the maturity of a feature; the
three labels exclude each other. `/remove-stage X` takes one off."""

import re

from hook.plugins.base import Command, Plugin

STAGES = ("alpha", "beta", "stable")


def stage(ctx, comment, match) -> None:
    remove, name = bool(match.group(1)), match.group(2).lower()
    label = f"stage/{name}"
    if remove:
        ctx.remove_labels(comment.number, label)
        return
    others = [f"stage/{other}" for other in STAGES if other != name]
    ctx.remove_labels(comment.number, *others)
    ctx.add_labels(comment.number, label)


plugin = Plugin(
    name="stage",
    description=(
        "Labels the stage of a feature: stage/alpha, stage/beta or "
        "stage/stable; adding one removes the others."
    ),
    commands=(
        Command(
            pattern=re.compile(r"(?mi)^/(remove-)?stage (alpha|beta|stable)\s*$"),
            handler=stage,
            usage="/[remove-]stage <alpha|beta|stable>",
            description="Labels the stage of a feature, or removes that label.",
            examples=("/stage alpha", "/remove-stage alpha"),
        ),
    ),
)
