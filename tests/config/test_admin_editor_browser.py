"""The config editor in a real Chromium: a code editor with line numbers,
Validate naming the line to edit and saving nothing, saving through the
editor, and the plain form when JavaScript is off."""

import pytest
from playwright.sync_api import expect

from prow.config.models import ConfigVersion
from prow.config.services import config_version_create
from tests.config.test_yaml_error_lines import UNCLOSED
from tests.deck.test_browser import chromium, page, shot  # noqa: F401
from tests.deck.test_confirm import log_in

pytestmark = pytest.mark.django_db(transaction=True)

ADD = "/admin/config/configversion/add/"
CONFIG = "periodics:\n- name: p\n  interval: 1h\n  spec: {containers: [{image: a}]}\n"
PLUGINS = "plugins:\n  acme/app:\n  - cat\n"


def editor(page, field: str):  # noqa: F811
    return page.locator(f"#id_{field} + .CodeMirror")


def fill_editor(page, field: str, text: str) -> None:  # noqa: F811
    """Replace the editor's text as a paste would."""
    editor(page, field).locator(".CodeMirror-lines").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)


def test_editor_numbers_lines_and_validate_names_the_open_bracket(
    page,  # noqa: F811
    live_server,
):
    first = config_version_create(
        config_yaml=CONFIG, plugins_yaml=PLUGINS, source=ConfigVersion.Source.FILE
    )
    log_in(page, live_server)
    page.goto(f"{live_server.url}{ADD}")

    config = editor(page, "config_yaml")
    expect(config).to_be_visible()
    expect(page.locator("#id_config_yaml")).to_be_hidden()
    expect(config.locator(".CodeMirror-gutter.CodeMirror-linenumbers")).to_be_visible()
    expect(config.locator(".CodeMirror-linenumber", has_text="1").first).to_be_visible()
    font = config.evaluate("e => getComputedStyle(e).fontFamily")
    assert "mono" in font.lower(), font

    fill_editor(page, "config_yaml", UNCLOSED)
    expect(config.locator(".CodeMirror-linenumber").last).to_have_text("18")
    page.get_by_role("button", name="Validate", exact=True).click()
    page.wait_for_load_state()

    expect(page.locator("#validation-failed")).to_contain_text("Not valid.")
    error = page.locator("#config_yaml-errors li")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("config.yaml line 14: (top level): invalid YAML:")
    expect(error).to_contain_text("'[' opened here is not closed")
    # The editor keeps the text and marks the line the error names.
    config = editor(page, "config_yaml")
    marked = config.locator(".config-error-line")
    expect(marked).to_have_count(1)
    expect(marked.locator(".CodeMirror-linenumber")).to_have_text("14")
    expect(marked).to_contain_text("command: [make, lint")
    shot(page, "config-editor-validate-error")

    error.click()
    cursor_line = config.evaluate("e => e.CodeMirror.getCursor().line")
    assert cursor_line == 13
    assert ConfigVersion.objects.count() == 1

    fill_editor(page, "config_yaml", CONFIG.replace("1h", "3h"))
    page.get_by_role("button", name="Validate", exact=True).click()
    expect(page.locator(".messagelist .success")).to_have_text(
        "Both files are valid. Nothing was saved."
    )
    assert list(ConfigVersion.objects.values_list("pk", flat=True)) == [first.pk]

    page.fill("#id_comment", "slower still")
    page.get_by_role("button", name="Validate and save").click()
    page.wait_for_url(lambda url: "/add/" not in url)
    version = ConfigVersion.objects.latest()
    assert version.pk != first.pk
    assert version.comment == "slower still"
    # Chromium posts the textareas with CRLF; the version stores LF.
    assert version.config_yaml == CONFIG.replace("1h", "3h")
    assert version.plugins_yaml == PLUGINS


def test_without_javascript_the_textarea_still_saves(
    chromium,  # noqa: F811
    live_server,
):
    config_version_create(
        config_yaml=CONFIG, plugins_yaml=PLUGINS, source=ConfigVersion.Source.FILE
    )
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, live_server)
        page.goto(f"{live_server.url}{ADD}")
        area = page.locator("#id_config_yaml")
        expect(area).to_be_visible()
        expect(page.locator(".CodeMirror")).to_have_count(0)
        font = area.evaluate("e => getComputedStyle(e).fontFamily")
        assert "mono" in font.lower(), font
        area.fill(CONFIG.replace("1h", "5h"))
        page.get_by_role("button", name="Validate and save").click()
        page.wait_for_url(lambda url: "/add/" not in url)
    finally:
        context.close()
    version = ConfigVersion.objects.latest()
    assert version.config_yaml == CONFIG.replace("1h", "5h")
