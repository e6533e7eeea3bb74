"""dog: `/woof` or `/bark` answers with a dog picture from random.dog;
`/this-is-fine`, `/this-is-not-fine` and `/this-is-unbearable` with their
well-known pictures."""

import re

from django.conf import settings

from hook.plugins import images
from hook.plugins.base import Command, Plugin

WOOF = re.compile(r"(?mi)^/(woof|bark)\s*$")
FINE = re.compile(r"(?mi)^/this-is-fine\s*$")
NOT_FINE = re.compile(r"(?mi)^/this-is-not-fine\s*$")
UNBEARABLE = re.compile(r"(?mi)^/this-is-unbearable\s*$")
FINE_IMAGES = "https://storage.googleapis.com/this-is-fine-images/"
FAMOUS = (
    (FINE, FINE_IMAGES + "this_is_fine.png"),
    (NOT_FINE, FINE_IMAGES + "this_is_not_fine.png"),
    (UNBEARABLE, FINE_IMAGES + "this_is_unbearable.jpg"),
)
# random.dog also serves videos, which GitHub does not show.
PICTURE = re.compile(r"(?i)\.(jpg|gif|png)$")
TRIES = 3
DOWN = "https://random.dog appears to be down"


def _fetch() -> str:
    answer = images.get_json(settings.PROW_DOG_API_URL)
    url = images.image_url(images.field(answer, "url"))
    path = url.split("?", 1)[0].split("#", 1)[0]
    if not PICTURE.search(path):
        raise images.Unusable(f"not a picture GitHub shows: {path.rsplit('/', 1)[-1]}")
    images.check_image(url)
    return url


def woof(ctx, comment) -> None:
    if comment.action != "created":
        return
    text = comment.command_text
    if WOOF.search(text):
        url = None
    else:
        url = next((image for pattern, image in FAMOUS if pattern.search(text)), "")
        if not url:
            return
    if ctx.answered(comment, "dog"):
        return
    if url is None:
        url = images.first_usable("dog", _fetch, tries=TRIES)
    if url is None:
        ctx.reply(comment, DOWN, key="dog")
        return
    ctx.reply(comment, f"[![dog image]({url})]({url})", key="dog")


plugin = Plugin(
    name="dog",
    description=(
        "The dog plugin adds a dog image to an issue or PR in response to the "
        "`/woof` command. Unlike the original, which stays silent, it says so "
        "when no dog could be fetched, and it answers a comment once even "
        "when its webhook is delivered again."
    ),
    handlers={"generic_comment": woof},
    commands=(
        Command(
            pattern=WOOF,
            usage="/(woof|bark|this-is-{fine|not-fine|unbearable})",
            description="Add a dog image to the issue or PR",
            examples=("/woof", "/bark", "/this-is-{fine|not-fine|unbearable}"),
        ),
        Command(
            pattern=FINE,
            usage="/this-is-fine",
            description="Add the 'this is fine' image to the issue or PR",
            examples=("/this-is-fine",),
        ),
        Command(
            pattern=NOT_FINE,
            usage="/this-is-not-fine",
            description="Add the 'this is not fine' image to the issue or PR",
            examples=("/this-is-not-fine",),
        ),
        Command(
            pattern=UNBEARABLE,
            usage="/this-is-unbearable",
            description="Add the 'this is unbearable' image to the issue or PR",
            examples=("/this-is-unbearable",),
        ),
    ),
)
