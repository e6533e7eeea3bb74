"""The project's settings plus the benchmark's reference view (bench/urls.py).

Only the URL configuration changes, so /hook runs exactly as in production.
"""

from prow.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
