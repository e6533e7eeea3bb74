# One image for every process: web (the default command), worker and beat
# choose theirs with the command they are given (see docker-compose.yml and
# deploy/kubernetes/).

FROM python:3.11.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --require-virtualenv -r /tmp/requirements.txt

FROM python:3.11.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=prow.settings \
    PROW_DATA_DIR=/var/lib/prow \
    PROW_STATIC_ROOT=/opt/prow/static \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
# A fixed numeric user, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 prow \
    && useradd --system --uid 10001 --gid prow --home-dir /var/lib/prow --no-create-home prow \
    && mkdir -p /var/lib/prow \
    && chown prow:prow /var/lib/prow
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=root:root . /app
# Static files are collected at build time and served by whitenoise; the
# throwaway key only lets the settings load without a data folder key.
RUN DJANGO_SECRET_KEY=collectstatic PROW_DATA_DIR=/tmp/build-data \
    python manage.py collectstatic --no-input -v 0 \
    && rm -rf /tmp/build-data
USER 10001:10001
VOLUME ["/var/lib/prow"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# gunicorn.conf.py binds 0.0.0.0:8000 and finishes requests in flight on
# SIGTERM (graceful_timeout).
CMD ["gunicorn", "prow.wsgi", "--config", "gunicorn.conf.py"]
