"""Terminal colours in logs become classed spans; nothing else gets through."""

from deck.templatetags.ansi import ansi_to_html


def test_colours_and_weight_become_spans_and_reset_closes_them():
    html = ansi_to_html("\x1b[1;34mINFO\x1b[m done \x1b[31mred\x1b[0m\n")
    assert html == (
        '<span class="ansi-bold ansi-blue">INFO</span> done '
        '<span class="ansi-red">red</span>\n'
    )


def test_text_is_escaped_and_other_sequences_dropped():
    html = ansi_to_html(
        "\x1b]0;title\x07\x1b[2K\x1b[32m<script>&\x1b[39m plain\x1b[38;5;208mx"
    )
    assert html == '<span class="ansi-green">&lt;script&gt;&amp;</span> plainx'
    assert "\x1b" not in ansi_to_html("a\x1bb\x1b[")


def test_bright_and_background_colours():
    assert ansi_to_html("\x1b[92;41mok") == (
        '<span class="ansi-bg-red ansi-bright-green">ok</span>'
    )
