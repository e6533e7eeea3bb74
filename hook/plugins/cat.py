"""cat: `/meow` answers with a cat picture, `/meowvie` with a moving one; an
argument asks for a category (`no` or `grumpy` for Grumpy Cat)."""

import re
from pathlib import Path

from django.conf import settings

from hook.plugins import images
from hook.plugins.base import Command, Plugin
from prow.config.plugin_sections import PluginSection, SectionReport
from prow.config.schema import Section

MATCH = re.compile(r"(?mi)^/meow(vie)?(?: (.+))?\s*$")
GRUMPY = re.compile(r"(?i)^(no|grumpy)\s*$")
GRUMPY_IMAGE = (
    "https://upload.wikimedia.org/wikipedia/commons/e/ee/"
    "Grumpy_Cat_by_Gage_Skidmore.jpg"
)
TRIES = 3
BAD_CATEGORY = "Bad category. Please see https://api.thecatapi.com/api/categories/list"
DOWN = "https://thecatapi.com appears to be down"


class CatConfig(Section):
    # A file holding the thecatapi.com API key; without one, the API still
    # answers, with a lower rate limit.
    key_path: str = ""


def _check(config: CatConfig, report: SectionReport) -> None:
    if config.key_path and not Path(config.key_path).is_absolute():
        report.error(
            ("key_path",),
            "must be an absolute path: hook and its workers run from different folders",
        )


SECTION = PluginSection("cat", CatConfig, check=_check)


def _api_key(ctx) -> str:
    path = plugin.settings(ctx).key_path
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        # The error names the file, never its content.
        ctx.logger.error("cannot read the cat API key file %s: %s", path, exc)
        return ""


def _fetch(category: str, movie: bool, key: str) -> str:
    params = {"format": "json", "results_per_page": "1"}
    if category:
        params["category"] = category
    if movie:
        params["mime_types"] = "gif"
    # In a header rather than the query: addresses end up in logs.
    headers = {"x-api-key": key} if key else None
    cats = images.get_json(settings.PROW_CAT_API_URL, params=params, headers=headers)
    url = images.image_url(images.field(cats, 0, "url"))
    images.check_image(url)
    return url


def meow(ctx, comment) -> None:
    if comment.action != "created":
        return
    match = MATCH.search(comment.command_text)
    if match is None:
        return
    movie, category = bool(match.group(1)), (match.group(2) or "").strip()
    if ctx.answered(comment, "cat"):
        return
    if GRUMPY.match(category):
        url = GRUMPY_IMAGE
    else:
        key = _api_key(ctx)
        url = images.first_usable(
            "cat", lambda: _fetch(category, movie, key), tries=TRIES
        )
    if url is None:
        ctx.reply(comment, BAD_CATEGORY if category else DOWN, key="cat")
        return
    ctx.reply(comment, f"![cat image]({url})", key="cat")


plugin = Plugin(
    name="cat",
    description=(
        "The cat plugin adds a cat image to an issue or PR in response to the "
        "`/meow` command. Unlike the original, it answers a comment once even "
        "when its webhook is delivered again, and images are checked (type, "
        "size, address) before they are posted."
    ),
    handlers={"generic_comment": meow},
    commands=(
        Command(
            pattern=MATCH,
            usage="/meow(vie) [CATegory]",
            description="Add a cat image to the issue or PR",
            examples=("/meow", "/meow caturday", "/meowvie clothes"),
        ),
    ),
    config=SECTION,
    config_help=(
        "The cat plugin uses an API key for thecatapi.com stored in the file "
        "named by `cat.key_path`."
    ),
)
