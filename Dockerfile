# postcoach in a container: slim Python, a non-root user that cannot change the code, the
# database (SQLite by default) on a volume. Layers from the least to the most often changed:
# an edit to the code rebuilds only the last, small ones.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/postcoach/bin:$PATH \
    DATABASE_URL=sqlite+aiosqlite:////app/data/postcoach.sqlite3 \
    CACHE_DIR=/app/data/cache \
    HEARTBEAT_FILE=/tmp/postcoach.heartbeat \
    HEALTH_PORT=8081 \
    HEALTH_LISTEN=127.0.0.1 \
    MPLCONFIGDIR=/var/cache/matplotlib

# The user the bot runs as owns only its data and caches, never the code.
RUN useradd --create-home --uid 10001 postcoach \
    && python -m venv /opt/postcoach \
    && mkdir -p /app/data /var/cache/matplotlib \
    && chown postcoach:postcoach /app/data /var/cache/matplotlib

# 1. The dependencies, read from pyproject.toml alone: this layer is rebuilt only when
#    they change. The data files the code never reads (other city lists, other languages:
#    about 230 MB) go in the same step, see docker/slim-venv.sh.
COPY pyproject.toml docker/slim-venv.sh /tmp/build/
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/build/pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/build/requirements.txt \
    && /opt/postcoach/bin/pip install --quiet -r /tmp/build/requirements.txt \
    && sh /tmp/build/slim-venv.sh /opt/postcoach \
    && rm -rf /tmp/build

# 2. The code: a regular (not editable) install into the root-owned virtualenv.
COPY pyproject.toml README.md /tmp/build/
COPY bot /tmp/build/bot
COPY storage /tmp/build/storage
COPY prompts /tmp/build/prompts
RUN /opt/postcoach/bin/pip install --quiet --no-deps /tmp/build \
    && rm -rf /tmp/build

USER postcoach
WORKDIR /app
# Matplotlib's font list, built once here instead of at the first /stats.
RUN python -c "import matplotlib.font_manager"

VOLUME ["/app/data"]
# Webhook mode listens here (WEBHOOK_PORT). Not the health port: /healthz and /metrics
# (HEALTH_PORT, above) answer on the container's loopback only, where the check runs; set
# HEALTH_LISTEN=0.0.0.0 for a scraper on a private network, never publish it.
EXPOSE 8080
# Both modes: `postcoach health` asks /healthz on HEALTH_PORT, 200 when the database takes
# a write (bot/transport/health.py). With HEALTH_PORT emptied, webhook mode asks WEBHOOK_PORT's
# /healthz and polling reads the heartbeat file the bot touches every 30 s.
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 \
    CMD ["postcoach", "health"]
CMD ["postcoach", "run"]
