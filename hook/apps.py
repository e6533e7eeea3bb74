from django.apps import AppConfig


class HookConfig(AppConfig):
    name = "hook"
    verbose_name = "Webhooks and plugins"
