"""pony: `/pony` answers with a pony picture from theponyapi.com; `/pony
<name or tags>` asks for a particular pony. At most five per comment."""

import re

from django.conf import settings

from hook.plugins import images
from hook.plugins.base import Command, Plugin

MATCH = re.compile(r"(?mi)^/(?:pony)(?: +(.+?))?\s*$")
MAX_PONIES = 5
TRIES = 2
NOT_FOUND = "Couldn't find a pony matching given tag(s)."
DOWN = "https://theponyapi.com appears to be down"


def _fetch(tags: str) -> str:
    answer = images.get_json(settings.PROW_PONY_API_URL, params={"q": tags})
    shapes = images.field(answer, "pony", "representations")
    small = images.image_url(images.field(shapes, "small"))
    full = images.image_url(images.field(shapes, "full"))
    images.check_image(small)
    return f"[![pony image]({small})]({full})"


def pony(ctx, comment) -> None:
    if comment.action != "created":
        return
    wanted = [
        (match.group(1) or "").strip() for match in MATCH.finditer(comment.command_text)
    ][:MAX_PONIES]
    if not wanted or ctx.answered(comment, "pony"):
        return
    ends = images.deadline()
    found = []
    for tags in wanted:
        picture = images.first_usable(
            "pony", lambda tags=tags: _fetch(tags), tries=TRIES, ends=ends
        )
        if picture is not None:
            found.append(picture)
        elif not tags:
            # A random pony failing means the service is not answering;
            # asking for the next one would wait out the same failure.
            break
    if found:
        ctx.reply(comment, "".join(f"{picture}\n" for picture in found), key="pony")
        return
    ctx.reply(comment, NOT_FOUND if any(wanted) else DOWN, key="pony")


plugin = Plugin(
    name="pony",
    description=(
        "The pony plugin adds a pony image to an issue or PR in response to "
        "the `/pony` command. It answers a comment once even when its webhook "
        "is delivered again, and stops asking for more ponies once the "
        "service has failed to answer."
    ),
    handlers={"generic_comment": pony},
    commands=(
        Command(
            pattern=MATCH,
            usage="/(pony) [pony]",
            description=(
                "Add a little pony image to the issue or PR. A particular pony "
                "can optionally be named for a picture of that specific pony."
            ),
            examples=("/pony", "/pony Twilight Sparkle"),
        ),
    ),
)
