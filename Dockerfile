# Model Ledger: one image for every process (web, worker, beat, relay, signer, migrate).
# docker-compose.yml picks the process with `command:`; the default is the web server.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings

# An unprivileged user to run as; the code itself stays owned by root (read-only to the app).
RUN groupadd --system --gid 10001 ledger \
    && useradd --system --uid 10001 --gid ledger --create-home --home-dir /home/ledger \
       --shell /usr/sbin/nologin ledger

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir -r requirements/base.txt

COPY . .

# Static files are collected into the image. Settings refuse to load in production without
# their secrets, so this one step gets throw-away build-only values inline: they are never
# ENV in the image, and the real ones only ever come from the runtime environment.
RUN LEDGER_ENV=production \
    DJANGO_SECRET_KEY=build-only-not-a-secret \
    LEDGER_PSEUDONYM_KEY=build-only-not-a-secret \
    LEDGER_BASE_URL=http://build.invalid \
    DATABASE_URL=postgres://build@127.0.0.1:5432/build \
    CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput --verbosity 1 \
    && mkdir -p /app/.ledger \
    && chown ledger:ledger /app/.ledger

USER ledger:ledger

EXPOSE 8000

# Liveness: GET /healthz on the local server. The Host header is the first allowed host and
# the request claims the TLS proxy's X-Forwarded-Proto, so neither ALLOWED_HOSTS nor the
# HTTPS redirect turns the probe into a 400 or a 301.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = os.environ.get('DJANGO_ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h, 'X-Forwarded-Proto': 'https'}), timeout=4)"]

# sh -c only to read WEB_WORKERS at start; exec hands PID 1 (and signals) to gunicorn.
CMD ["sh", "-c", "exec gunicorn config.wsgi:application --bind 0.0.0.0:8000 --workers \"${WEB_WORKERS:-3}\" --config config/gunicorn.py --access-logfile -"]
