import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prow.settings")
application = get_wsgi_application()

# After Django is set up: a webhook may arrive with the first request, and
# it must find the config already loaded.
from prow.config.startup import config_load_at_start  # noqa: E402

config_load_at_start()
