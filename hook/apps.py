from django.apps import AppConfig


class HookConfig(AppConfig):
    name = "hook"
    verbose_name = "Webhooks and plugins"

    def ready(self):
        # Loading the registry declares every plugin's plugins.yaml section
        # and name to config validation, which may run in any process.
        from hook.plugins import registry  # noqa: F401
