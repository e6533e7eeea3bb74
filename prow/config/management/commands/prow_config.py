"""prow_config: validate, import and export the Prow configuration.

`validate` needs no database and exits 1 on errors, so a config repository's
own CI can run it, as the original's checkconfig.
"""

import sys
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from prow.config import plugin_sections
from prow.config.plugins_schema import PluginsConfig
from prow.config.schema import ProwConfig
from prow.config.validation import CONFIG_FILE, PLUGINS_FILE, validate

CORE_PLUGIN_KEYS = {f.alias or name for name, f in PluginsConfig.model_fields.items()}
CONFIG_KEYS = {f.alias or name for name, f in ProwConfig.model_fields.items()}


def classify(path: Path, text: str) -> str:
    """'plugins' or 'config', from the file's top-level keys, else its name."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict) and data:
        keys = set(data)
        # Plugins declare their sections when the apps load, so read now.
        plugin_keys = CORE_PLUGIN_KEYS | set(plugin_sections.sections())
        if keys & plugin_keys and not keys & CONFIG_KEYS:
            return "plugins"
        if keys & CONFIG_KEYS:
            return "config"
    return "plugins" if "plugin" in path.name.lower() else "config"


def _named(issue, paths: dict) -> str:
    """The issue as text, also naming the path the file was read from (the
    path a person typed, or the configured one), as path:line for editors
    and terminals to jump to."""
    path = paths.get(issue.file)
    if not path or str(path) == issue.file:
        return str(issue)
    where = f"{path}:{issue.line}" if issue.line else str(path)
    return f"{issue} (at {where})"


class Command(BaseCommand):
    help = (
        "Validate, import or export the Prow configuration (config.yaml, plugins.yaml)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        validate = sub.add_parser(
            "validate",
            help="Check files; exit 1 and list every error with its line.",
        )
        validate.add_argument("files", nargs="*", type=Path)
        validate.add_argument("--config", type=Path, help="config.yaml to check")
        validate.add_argument("--plugins", type=Path, help="plugins.yaml to check")
        validate.add_argument(
            "--strict", action="store_true", help="treat warnings as errors"
        )
        imp = sub.add_parser("import", help="Store files as the new active version.")
        imp.add_argument("files", nargs="*", type=Path)
        imp.add_argument("--config", type=Path)
        imp.add_argument("--plugins", type=Path)
        imp.add_argument("--comment", default="")
        sub.add_parser(
            "sync",
            help="Load PROW_CONFIG_PATH and PROW_PLUGIN_CONFIG_PATH if they "
            "changed since last loaded (what the watcher does).",
        )
        export = sub.add_parser("export", help="Write the active version's files.")
        export.add_argument(
            "--config", help="where to write config.yaml (- for standard output)"
        )
        export.add_argument(
            "--plugins", help="where to write plugins.yaml (- for standard output)"
        )

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def _files(self, files, config, plugins) -> tuple[str, str, str]:
        found = self._found = {"config": config, "plugins": plugins}
        for path in files:
            text = self._read(path)
            kind = classify(path, text)
            if found[kind] is not None:
                raise CommandError(
                    f"two {kind} files given ({found[kind]} and {path}); "
                    "name them with --config and --plugins"
                )
            found[kind] = path
        texts = {k: self._read(p) if p else "" for k, p in found.items()}
        names = ", ".join(str(p) for p in found.values() if p)
        if not names:
            raise CommandError("no files given")
        return texts["config"], texts["plugins"], names

    def _read(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}")

    def handle_validate(self, files, config, plugins, strict, **_):
        config_text, plugins_text, names = self._files(files, config, plugins)
        result = validate(config_text, plugins_text)
        paths = {
            CONFIG_FILE: self._found["config"],
            PLUGINS_FILE: self._found["plugins"],
        }
        for warning in result.warnings:
            self.stderr.write(f"warning: {_named(warning, paths)}")
        for error in result.errors:
            self.stderr.write(f"error: {_named(error, paths)}")
        failed = result.errors or (strict and result.warnings)
        if failed:
            raise CommandError(
                f"{len(result.errors)} error(s), {len(result.warnings)} warning(s) "
                f"in {names}",
                returncode=1,
            )
        cfg = result.config
        presubmits = sum(len(jobs) for jobs in cfg.presubmits.values())
        postsubmits = sum(len(jobs) for jobs in cfg.postsubmits.values())
        self.stdout.write(
            f"{names}: valid ({presubmits} presubmits, {postsubmits} postsubmits, "
            f"{len(cfg.periodics)} periodics, plugins for "
            f"{len(result.plugins.plugins)} orgs/repos; "
            f"{len(result.warnings)} warning(s))"
        )

    def handle_import(self, files, config, plugins, comment, **_):
        from prow.config.models import ConfigVersion
        from prow.config.services import ConfigInvalid, config_version_create

        config_text, plugins_text, names = self._files(files, config, plugins)
        try:
            version = config_version_create(
                config_yaml=config_text,
                plugins_yaml=plugins_text,
                source=ConfigVersion.Source.COMMAND,
                comment=comment or f"Imported from {names}",
            )
        except ConfigInvalid as exc:
            for error in exc.result.errors:
                self.stderr.write(f"error: {error}")
            raise CommandError("nothing imported: the config has errors", returncode=1)
        self.stdout.write(f"imported as version {version.pk}, now active")

    def handle_sync(self, **_):
        from prow.config.active import active_config
        from prow.config.services import config_sync_files, read_config_files

        version = config_sync_files(
            config_path=settings.PROW_CONFIG_PATH,
            plugins_path=settings.PROW_PLUGIN_CONFIG_PATH,
        )
        if version:
            self.stdout.write(f"loaded the config files as version {version.pk}")
            return
        current = active_config().version_id
        paths = {
            CONFIG_FILE: settings.PROW_CONFIG_PATH,
            PLUGINS_FILE: settings.PROW_PLUGIN_CONFIG_PATH,
        }
        try:
            texts = read_config_files(*paths.values())
        except OSError as exc:
            raise CommandError(
                f"config files unreadable ({exc}); active version {current}",
                returncode=1,
            )
        result = validate(*texts)
        if not result.ok:
            for error in result.errors:
                self.stderr.write(f"error: {_named(error, paths)}")
            raise CommandError(
                f"config files invalid, not loaded; active version {current}",
                returncode=1,
            )
        self.stdout.write(f"config files unchanged; active version {current}")

    def handle_export(self, config, plugins, **_):
        from prow.config.models import ConfigVersion

        version = ConfigVersion.objects.order_by("-pk").first()
        if version is None:
            raise CommandError("no config has been stored yet")
        if not config and not plugins:
            raise CommandError(
                "say where to write: --config and/or --plugins (- for stdout)"
            )
        for target, text in (
            (config, version.config_yaml),
            (plugins, version.plugins_yaml),
        ):
            if target == "-":
                sys.stdout.write(text)
            elif target:
                Path(target).write_text(text, encoding="utf-8")
                self.stderr.write(f"wrote version {version.pk} to {target}")
