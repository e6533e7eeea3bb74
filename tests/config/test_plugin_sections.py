"""plugins.yaml sections as their plugins declare them: typed with the
original's defaults, looked up per org and repo by one function, checked by
the plugin, refused with their line."""

import textwrap

from prow.config.plugin_sections import PluginSection, Shape, known_plugins
from prow.config.validation import validate

TRIGGERS = textwrap.dedent(
    """\
    triggers:
    - repos: [octo]
      trusted_org: octo-org
    - repos: [octo/app]
      only_org_members: true
    """
)


def plugins(text: str):
    result = validate("", text)
    assert result.ok, result.errors
    return result.plugins


def test_a_repo_list_section_takes_the_repos_entry_then_the_orgs_then_defaults():
    config = plugins(TRIGGERS)
    assert config.section("triggers", "octo", "app").only_org_members is True
    assert config.section("triggers", "octo", "app").trusted_org == ""
    assert config.section("triggers", "octo", "other").trusted_org == "octo-org"
    assert config.section("triggers", "elsewhere", "x").trusted_org == ""


def test_a_repo_map_section_takes_the_repos_key_then_the_orgs_then_the_default():
    config = plugins(
        textwrap.dedent(
            """\
            repo_milestone:
              "":
                maintainers_team: everyone
              octo:
                maintainers_team: octo-leads
              octo/app:
                maintainers_team: app-leads
            """
        )
    )
    pick = config.section
    assert pick("repo_milestone", "octo", "app").maintainers_team == "app-leads"
    assert pick("repo_milestone", "octo", "web").maintainers_team == "octo-leads"
    assert pick("repo_milestone", "other", "x").maintainers_team == "everyone"
    assert pick("repo_milestone", "other", "x").maintainers_friendly_name == (
        "SIG Chairs/TLs"
    )


def test_a_section_the_file_leaves_out_has_the_originals_defaults():
    config = plugins("")
    assert config.section("size").xxl == 1000
    assert config.section("lgtm", "octo", "app").review_acts_as_lgtm is False


def test_a_sections_type_error_is_refused_with_its_line():
    result = validate("", "plugins:\n  octo: [size]\nsize:\n  s: lots\n")
    (error,) = result.errors
    assert (error.file, error.line, error.path) == ("plugins.yaml", 4, "size.s")


def test_a_sections_own_check_runs_with_its_line():
    result = validate("", "size:\n  s: 10\n  m: 5\n")
    (error,) = result.errors
    assert error.line == 3
    assert error.path == "size.m"
    assert "must increase" in error.message


def test_a_key_no_plugin_declares_is_kept_with_a_warning():
    result = validate("", "shrugs:\n  loud: true\n")
    assert result.ok
    (warning,) = result.warnings
    assert warning.path == "shrugs"
    assert result.plugins.model_extra["shrugs"] == {"loud": True}


def test_plugin_names_come_from_the_registry():
    names = known_plugins()
    # Implemented here, and the original's that are not yet.
    assert {"trigger", "shrug", "stage"} <= names
    assert {"lgtm", "approve", "cat"} <= names
    result = validate("", "plugins:\n  octo: [shrugg]\n")
    (error,) = result.errors
    assert 'unknown plugin "shrugg" (did you mean "shrug"?)' in error.message


def test_the_lookup_shapes_need_no_plugin():
    section = PluginSection("demo", dict, Shape.ONE)
    assert section.default() == {}
    assert section.lookup({"a": 1}, "org", "repo") == {"a": 1}
