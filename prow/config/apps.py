from django.apps import AppConfig


class ProwConfigConfig(AppConfig):
    name = "prow.config"
    label = "config"
    verbose_name = "Prow configuration"
