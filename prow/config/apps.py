from django.apps import AppConfig


class ProwConfigConfig(AppConfig):
    name = "prow.config"
    label = "config"
    verbose_name = "Prow configuration"

    def ready(self):
        # Connects the worker's and beat's start to the config import, in
        # every process that loads Django (the signals fire only in those);
        # beat also records its ticks for the health page (prow/health.py).
        from prow import health  # noqa: F401
        from prow.config import startup  # noqa: F401
