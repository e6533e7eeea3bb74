"""yuks: `/joke` answers with a joke from icanhazdadjoke.com."""

import re

from django.conf import settings

from hook.plugins import images
from hook.plugins.base import Command, Plugin

MATCH = re.compile(r"(?mi)^/joke\s*$")
TRIES = 3
# Escaped, a longer answer is no joke but a wall of entities.
MAX_JOKE_CHARS = 1000
DOWN = "https://icanhazdadjoke.com appears to be down"


def _fetch() -> str:
    answer = images.get_json(
        settings.PROW_JOKE_API_URL, headers={"Accept": "application/json"}
    )
    joke = images.field(answer, "joke")
    if not isinstance(joke, str) or not joke.strip():
        raise images.Unusable("the answer holds no joke")
    if len(joke) > MAX_JOKE_CHARS:
        raise images.Unusable(f"a joke of {len(joke)} characters")
    return images.escape_markdown(joke.strip())


def joke(ctx, comment) -> None:
    if comment.action != "created" or not MATCH.search(comment.command_text):
        return
    if ctx.answered(comment, "yuks"):
        return
    text = images.first_usable("joke", _fetch, tries=TRIES)
    ctx.reply(comment, DOWN if text is None else text, key="yuks")


plugin = Plugin(
    name="yuks",
    description=(
        "The yuks plugin comments with jokes in response to the `/joke` "
        "command. Unlike the original, which stays silent, it says so when "
        "no joke could be fetched, and it answers a comment once even when "
        "its webhook is delivered again."
    ),
    handlers={"generic_comment": joke},
    commands=(
        Command(
            pattern=MATCH,
            usage="/joke",
            description="Tells a joke.",
            examples=("/joke",),
            who_can_use="Anyone can use the `/joke` command.",
        ),
    ),
)
