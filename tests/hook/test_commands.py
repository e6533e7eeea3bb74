import re
import time

import pytest

from hook.commands import (
    Command,
    command_text,
    parse_commands,
    strip_code_blocks,
    strip_html_comments,
)


def names(body: str) -> list[str]:
    return [command.name for command in parse_commands(body)]


# ------------------------------------------------------------------ commands


def test_several_commands_in_one_comment_come_in_order():
    body = "Looks good.\n/lgtm\n/approve\nthanks!\n/hold cancel\n"
    assert parse_commands(body) == [
        Command("lgtm", ""),
        Command("approve", ""),
        Command("hold", "cancel"),
    ]


def test_arguments_are_the_rest_of_the_line_split_on_whitespace():
    [command] = parse_commands("/test   e2e unit\t \n")
    assert command == Command("test", "e2e unit")
    assert command.arguments == ["e2e", "unit"]
    assert parse_commands("/retest")[0].arguments == []


def test_the_name_is_kept_as_written():
    # The approve plugin upper-cases names itself; the parser must not.
    assert names("/LGTM\n/Remove-Approve\n/test?") == [
        "LGTM",
        "Remove-Approve",
        "test?",
    ]


@pytest.mark.parametrize(
    "body",
    [
        "please /lgtm",
        " /lgtm",
        "\t/lgtm",
        "> /lgtm",
        "`/lgtm`",
        "text/lgtm",
        "/",
        "/ lgtm",
    ],
)
def test_commands_not_at_the_start_of_a_line_are_not_commands(body):
    assert parse_commands(body) == []


def test_crlf_line_endings_leave_no_carriage_return_in_arguments():
    body = "/test e2e unit\r\n/lgtm\r\n/hold\r\n"
    assert parse_commands(body) == [
        Command("test", "e2e unit"),
        Command("lgtm", ""),
        Command("hold", ""),
    ]


def test_a_lone_carriage_return_also_ends_a_line():
    assert names("/lgtm\r/approve") == ["lgtm", "approve"]


def test_empty_and_missing_bodies_hold_no_commands():
    assert parse_commands("") == []
    assert parse_commands(None) == []


# --------------------------------------------------------------- code blocks


def test_commands_in_a_backtick_fence_are_ignored():
    body = "/lgtm\n```\n/hold\n/approve\n```\n/retest\n"
    assert names(body) == ["lgtm", "retest"]


def test_commands_in_a_tilde_fence_are_ignored():
    body = "~~~\n/hold\n~~~\n/retest"
    assert names(body) == ["retest"]


def test_a_fence_with_an_info_string_is_still_a_fence():
    body = "```console\n$ make\n/hold\n```\n/lgtm"
    assert names(body) == ["lgtm"]


def test_indented_fences_open_and_close_blocks():
    # Fences inside list items are indented.
    body = "- log:\n    ```\n/hold\n    ```\n/lgtm\n  ~~~\n/approve\n\t~~~\n/retest"
    assert names(body) == ["lgtm", "retest"]


def test_an_unterminated_fence_runs_to_the_end_of_the_comment():
    body = "/lgtm\n```\n/hold\n/approve\n"
    assert names(body) == ["lgtm"]


def test_a_fence_is_closed_only_by_the_same_character():
    body = "```\n/hold\n~~~\n/approve\n"
    assert names(body) == []


def test_a_fence_is_closed_only_by_one_at_least_as_long():
    body = "````\n```\n/hold\n````\n/lgtm"
    assert names(body) == ["lgtm"]


def test_a_closing_fence_may_be_longer():
    body = "```\n/hold\n`````\n/lgtm"
    assert names(body) == ["lgtm"]


def test_a_closing_fence_carries_no_info_string():
    body = "```\n/hold\n```go\n/approve\n```\n/lgtm"
    assert names(body) == ["lgtm"]


def test_inline_code_of_three_backticks_opens_no_block():
    # "```make test```" is inline code, not a fence: what follows counts.
    body = "```make test``` passes for me\n/lgtm"
    assert names(body) == ["lgtm"]


def test_crlf_fences_close():
    # GitHub's editor sends CRLF; the closing fence line ends in "\r".
    body = "/lgtm\r\n```\r\n/hold\r\n```\r\n/approve\r\n"
    assert names(body) == ["lgtm", "approve"]


def test_several_fences_each_hide_their_own_lines():
    body = "```\n/a\n```\n/b\n~~~\n/c\n~~~\n/d\n```\n/e\n```"
    assert names(body) == ["b", "d"]


def test_strip_code_blocks_keeps_the_text_around_blocks():
    body = "before\n```\ncode\n```\nafter"
    stripped = strip_code_blocks(body)
    assert "code" not in stripped
    assert stripped.startswith("before\n")
    assert stripped.endswith("\nafter")


# ------------------------------------------------------------- HTML comments


def test_commands_in_html_comments_are_ignored():
    # The shape of a pull request template's instructions.
    body = (
        "#### What type of PR is this?\n"
        "<!--\nAdd one of the following kinds:\n/kind bug\n/kind cleanup\n-->\n"
        "/kind feature\n"
    )
    assert parse_commands(body) == [Command("kind", "feature")]


def test_an_inline_html_comment_is_cut_out_of_its_line():
    assert parse_commands("/hold <!-- until Friday --> cancel") == [
        Command("hold", "cancel")
    ]


def test_text_after_a_comment_can_start_a_line():
    # As with the original's regex replacement: what follows the comment
    # joins the line it started on.
    assert names("<!-- note -->/lgtm") == ["lgtm"]
    assert names("x <!-- note\nmore -->/lgtm") == []


def test_an_unterminated_html_comment_hides_nothing():
    assert names("<!-- oops\n/lgtm") == ["lgtm"]


def test_strip_html_comments_keeps_code_blocks():
    body = "a<!-- x -->b\n```\n<!-- in code -->\n```"
    assert strip_html_comments(body) == "ab\n```\n<!-- in code -->\n```"


def test_strip_code_blocks_keeps_html_comments():
    body = "<!-- x -->\n```\ncode\n```"
    assert strip_code_blocks(body) == "<!-- x -->\n"


def test_a_fence_inside_an_html_comment_is_comment_text():
    body = "<!--\n```\n-->\n/lgtm"
    assert names(body) == ["lgtm"]


def test_an_html_comment_inside_a_fence_is_code():
    body = "```\n<!--\n```\n/lgtm\n<!-- -->"
    assert names(body) == ["lgtm"]


def test_command_text_strips_both_and_normalizes_line_ends():
    body = "one\r\n<!-- c -->\r\n```\r\ncode\r\n```\r\ntwo"
    text = command_text(body)
    assert "\r" not in text
    assert "code" not in text and "<!--" not in text
    assert text.startswith("one\n") and text.endswith("two")


def test_a_plugins_pattern_sees_only_text_outside_hidden_text():
    # Plugins search command_text with their own command regex.
    pattern = re.compile(r"(?mi)^/meow(?: (.+))?\s*$")
    body = "/meow\n```\n/meow in code\n```\n<!-- /meow hidden -->\n/MEOW loud"
    found = list(pattern.finditer(command_text(body)))
    assert [m.group(0).strip() for m in found] == ["/meow", "/MEOW loud"]


# ------------------------------------------------------------------ cost


@pytest.mark.parametrize(
    "body",
    [
        "<!--" * 16384,  # every one unclosed
        "<!-- x\n" * 9000 + "-->",
        "```\n~~~~\n" * 6500,
        ("`" * 60 + "x`\n") * 1000,
    ],
)
def test_a_64_kb_comment_is_read_in_linear_time(body):
    started = time.perf_counter()
    command_text(body)
    assert time.perf_counter() - started < 0.2
