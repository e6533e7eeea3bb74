from django.apps import AppConfig


class TideConfig(AppConfig):
    name = "tide"
