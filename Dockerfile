# postcoach in a container: slim Python, a non-root user, the database on a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite+aiosqlite:////app/data/postcoach.sqlite3 \
    PATH=/app/.venv/bin:$PATH \
    MPLCONFIGDIR=/tmp/matplotlib

RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 postcoach

WORKDIR /app
COPY --chown=postcoach:postcoach . /app
USER postcoach
# The same installation as `make run` performs.
RUN make install PYTHON=python3.11 && mkdir -p /app/data \
    && /app/.venv/bin/python -c "import matplotlib.font_manager"

VOLUME ["/app/data"]
CMD ["postcoach", "run"]
